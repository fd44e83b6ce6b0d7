import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { UnitStatus } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { storedFiles } from '../testkit/files.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { waitFor } from '../testkit/wait.ts';

// Stack code trying to reach the daemon's secrets, with the real daemon,
// terraform, node and bubblewrap. The stacks are committed once the daemon
// runs, naming its real paths: its API token, its store, its config file and
// the state of another unit (`victim`, whose input is a secret).
const VICTIM_SECRET = 'victim-state-secret-5b0e2c91';

let repo: TestRepo;
let daemon: TestDaemon;
let base: string;
let token: string;
let thieves: string;

/** HCL string literal. */
const hcl = (path: string) => JSON.stringify(path);

before(async () => {
  base = mkdtempSync(join(tmpdir(), 'plumbline-sandbox-'));
  repo = new TestRepo();
  repo.commit({
    'stacks/victim/stack.yaml': 'kind: terraform\napproval: auto\nsecretVars:\n  secret: {env: PLUMBLINE_TEST_VICTIM}\n',
    'stacks/victim/main.tf': 'variable "secret" {\n  type      = string\n  sensitive = true\n}\nresource "terraform_data" "kept" {\n  input = var.secret\n}\n',
  });
  daemon = await TestDaemon.start({ sourceUrl: repo.url, stateDir: join(base, 'state'), env: { PLUMBLINE_TEST_VICTIM: VICTIM_SECRET } });
  await daemon.waitForUnit('victim', 'InSync', { timeoutMs: 120_000 });
  token = daemon.token;

  const secrets = {
    token: join(daemon.stateDir, 'api-token'),
    store: join(daemon.stateDir, 'plumbline.db'),
    config: daemon.configFile,
    victim: join(daemon.stateDir, 'units', 'victim', 'terraform.tfstate'),
  };
  const probe = Object.entries(secrets)
    .map(([name, path]) => `    ${name} = fileexists(${hcl(path)})\n    ${name}_through_proc = fileexists(${hcl(`/proc/1/root${path}`)})`)
    .join('\n');
  const dependsOnVictim = 'dependsOn: [victim]\n';
  thieves = repo.commit({
    // Plan time: every path is simply not there.
    'stacks/probe/stack.yaml': `kind: terraform\napproval: auto\n${dependsOnVictim}`,
    'stacks/probe/main.tf': `output "visible" {\n  value = {\n${probe}\n  }\n}\n`,
    // Plan time: file() of the token, and of another unit's state.
    'stacks/thief-token/stack.yaml': 'kind: terraform\napproval: auto\n',
    'stacks/thief-token/main.tf': `output "token" {\n  value = file(${hcl(secrets.token)})\n}\n`,
    'stacks/thief-state/stack.yaml': `kind: terraform\napproval: auto\n${dependsOnVictim}`,
    'stacks/thief-state/main.tf': `output "state" {\n  value = file(${hcl(secrets.victim)})\n}\n`,
    // Apply time: a committed script run by a local-exec copies the token and
    // the store into the stack's outputs folder, through /proc too, and tampers with the victim's state.
    'stacks/thief-exec/stack.yaml': 'kind: terraform\napproval: auto\n',
    'stacks/thief-exec/steal.sh': [
      'set -u',
      `cat ${secrets.token} > "$OUT/token" || cat /proc/*/root${secrets.token} > "$OUT/token"`,
      `echo tampered >> ${secrets.victim}`,
      `cp ${secrets.store} "$OUT/store" && echo "stole: $(cat "$OUT/token")"`,
      '',
    ].join('\n'),
    'stacks/thief-exec/main.tf': [
      'resource "terraform_data" "steal" {',
      '  provisioner "local-exec" {',
      '    interpreter = ["/bin/sh", "-c"]',
      '    command     = file("${path.module}/steal.sh")',
      '    environment = { OUT = path.module }',
      '  }',
      '}',
      '',
    ].join('\n'),
    // Synthesis: the CDKTF app reads the token with Node's fs.
    'stacks/thief-synth/stack.yaml': 'kind: cdktf\nentry: main.ts\napproval: auto\n',
    'stacks/thief-synth/main.ts': [
      "import { readFileSync } from 'node:fs';",
      "import { App, TerraformOutput, TerraformStack } from 'cdktf';",
      'const app = new App();',
      "const stack = new TerraformStack(app, 'thief');",
      `new TerraformOutput(stack, 'token', { value: readFileSync(${JSON.stringify(secrets.token)}, 'utf8') });`,
      'app.synth();',
      '',
    ].join('\n'),
  }, 'stacks that try to read the daemon\'s secrets');
  await daemon.sync();
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
  if (base) rmSync(base, { recursive: true, force: true });
});

/** The unit once its run at `revision` failed (Failed, or Stalled when retrying cannot help). */
async function failedAt(name: string, revision: string): Promise<UnitStatus> {
  return waitFor(
    async () => {
      const unit = await daemon.unit(name);
      return unit && unit.lastAttemptedRevision === revision && (unit.phase === 'Failed' || unit.phase === 'Stalled') ? unit : undefined;
    },
    { what: `${name} to fail at ${revision.slice(0, 8)}`, timeoutMs: 180_000 },
  );
}

test('the daemon says at start that tool processes run sandboxed', async () => {
  assert.match(daemon.logs, /"sandbox":"bwrap","msg":"tool processes run sandboxed \(bubblewrap\)"/);
  assert.deepEqual((await daemon.status()).sandbox, { mode: 'auto', enabled: true });
});

test('a stack sees none of the daemon\'s files, not even through /proc, and plans and applies all the same', async () => {
  await daemon.waitForUnit('probe', 'InSync', { revision: thieves, timeoutMs: 180_000 });
  const outputs = (await daemon.storedOutputs('probe')) ?? {};
  assert.deepEqual(outputs.visible?.value, {
    token: false,
    token_through_proc: false,
    store: false,
    store_through_proc: false,
    config: false,
    config_through_proc: false,
    victim: false,
    victim_through_proc: false,
  });
});

test('file() of the API token or of another unit\'s state fails the plan', async () => {
  const stole = await failedAt('thief-token', thieves);
  assert.match(stole.message, /no file exists|no such file/i, stole.message);
  const state = await failedAt('thief-state', thieves);
  assert.match(state.message, /no file exists|no such file/i, state.message);
});

test('a local-exec can neither read the token or the store nor touch another unit\'s state', async () => {
  const unit = await failedAt('thief-exec', thieves);
  assert.match(unit.message, /No such file or directory/, unit.message);
  const victim = readFileSync(join(daemon.stateDir, 'units', 'victim', 'terraform.tfstate'), 'utf8');
  assert.doesNotMatch(victim, /tampered/);
  assert.equal(JSON.parse(victim).resources.length, 1, 'the victim\'s state is intact');
});

test('a CDKTF app cannot read the token: its synthesis fails', async () => {
  const unit = await failedAt('thief-synth', thieves);
  assert.match(unit.message, /ENOENT|no such file/i, unit.message);
});

test('the secrets appear nowhere: logs, API answers, stored files', async () => {
  for (const name of ['probe', 'thief-token', 'thief-state', 'thief-exec', 'thief-synth']) {
    const unit = await daemon.unit(name);
    assert.equal(unit?.lastAttemptedRevision, thieves, `${name} ran`);
  }
  const answers = [
    daemon.logs,
    (await daemon.api('/api/v1/status')).text,
    (await daemon.api('/api/v1/plans')).text,
    (await daemon.api('/api/v1/history')).text,
    ...(await Promise.all((await daemon.plans()).map(async (p) => (await daemon.api(`/api/v1/plans/${p.id}`)).text))),
  ];
  for (const text of answers) {
    assert.ok(!text.includes(token), 'no token in logs or API answers');
    assert.ok(!text.includes(VICTIM_SECRET), 'no victim secret in logs or API answers');
  }
  // The victim's own state and saved plan hold its secret; nothing else may.
  const victims = (file: string): boolean => {
    const run = /^(.*\/runs\/[^/]+)\//.exec(file)?.[1];
    return file.startsWith(join(daemon.stateDir, 'units', 'victim/')) || (run !== undefined && existsSync(join(run, 'tree', 'stacks', 'victim')));
  };
  const tokenFile = join(daemon.stateDir, 'api-token');
  for (const file of storedFiles(daemon.stateDir)) {
    const bytes = readFileSync(file);
    if (file !== tokenFile) assert.ok(!bytes.includes(token), `no token in ${file}`);
    if (!victims(file)) assert.ok(!bytes.includes(VICTIM_SECRET), `no victim secret in ${file}`);
  }
});
