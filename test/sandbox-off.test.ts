import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';

// `sandbox: off`: the operator's choice, said loudly at start and in status.
// The same probe that finds nothing under the sandbox (sandbox-stacks.test.ts)
// then finds the daemon's token and config: what the sandbox keeps away.

let repo: TestRepo;
let daemon: TestDaemon;
let revision: string;

before(async () => {
  repo = new TestRepo();
  repo.commit({ 'README.md': 'infra\n' });
  daemon = await TestDaemon.start({ sourceUrl: repo.url, extraConfig: 'sandbox: off' });
  revision = repo.commit({
    'stacks/probe/stack.yaml': 'kind: terraform\napproval: auto\n',
    'stacks/probe/main.tf': `output "visible" {\n  value = {\n    token  = fileexists(${JSON.stringify(join(daemon.stateDir, 'api-token'))})\n    config = fileexists(${JSON.stringify(daemon.configFile)})\n  }\n}\n`,
  });
  await daemon.sync();
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

test('sandbox: off is reported at start, as a warning', () => {
  const line = daemon.logs.split('\n').find((l) => l.includes('TOOL PROCESSES RUN UNSANDBOXED'));
  assert.ok(line, daemon.logs.slice(0, 3000));
  const entry = JSON.parse(line) as { level: number; mode: string; reason: string };
  assert.equal(entry.level, 40);
  assert.equal(entry.mode, 'off');
  assert.match(entry.reason, /sandbox: off in plumbline\.yaml/);
});

test('status says tool processes are not sandboxed, in the API and the CLI', async () => {
  assert.deepEqual((await daemon.status()).sandbox, { mode: 'off', enabled: false, reason: 'sandbox: off in plumbline.yaml' });
  const status = daemon.cli(['status']);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^sandbox OFF \(sandbox: off in plumbline\.yaml\)/m);
  const json = JSON.parse(daemon.cli(['status', '--json']).stdout) as { sandbox: { enabled: boolean } };
  assert.equal(json.sandbox.enabled, false);
});

test('unsandboxed, stack code sees the daemon\'s token and config', async () => {
  await daemon.waitForUnit('probe', 'InSync', { revision, timeoutMs: 120_000 });
  const outputs = (await daemon.storedOutputs('probe')) ?? {};
  assert.deepEqual(outputs.visible?.value, { token: true, config: true });
});
