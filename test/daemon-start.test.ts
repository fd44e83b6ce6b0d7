import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../testkit/files.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { freePort } from '../testkit/ports.ts';
import { waitFor } from '../testkit/wait.ts';

// A daemon's API answers before the providers are built: building one loads its
// tool's code, which no answer needs. The Terraform provider says, when it is
// built, that the configured CLI configuration file is missing: that line comes
// after the API's "api listening", and the daemon still starts.

let dir: string;
let repo: TestRepo;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-start-'));
  repo = new TestRepo();
  repo.commit({ 'README.md': '# infra\n' });
});
after(() => {
  repo.dispose();
  rmSync(dir, { recursive: true, force: true });
});

test('the API listens before the providers are built, and the daemon then starts', async () => {
  const port = await freePort();
  const configFile = join(dir, 'plumbline.yaml');
  const missing = join(dir, 'absent.tfrc');
  writeFileSync(
    configFile,
    ['source:', `  url: ${repo.url}`, '  interval: 1h', `stateDir: ${join(dir, 'state')}`, 'api:', `  listen: 127.0.0.1:${port}`, 'terraform:', `  cliConfigFile: ${missing}`, ''].join('\n'),
  );
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), 'daemon', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await waitFor(() => output.includes('"msg":"daemon started"'), { what: 'the daemon to start', timeoutMs: 60_000, intervalMs: 50 });
    const listening = output.indexOf('"msg":"api listening"');
    const built = output.indexOf('the Terraform CLI configuration file does not exist');
    assert.ok(listening >= 0 && built >= 0, output);
    assert.ok(listening < built, `the providers were built before the API listened:\n${output}`);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  }
});
