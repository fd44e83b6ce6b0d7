import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../testkit/files.ts';
import { freePort } from '../testkit/ports.ts';
import { TestRepo } from '../testkit/git-repo.ts';

// The API token file decides who may approve plans: the real daemon refuses to
// start with one other users can read or one too short to resist guessing, and
// the CLI refuses to send such a token.

let dir: string;
let repo: TestRepo;
let configFile: string;
let tokenFile: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-token-'));
  repo = new TestRepo();
  repo.commit({ 'README.md': '# infra\n' });
  tokenFile = join(dir, 'api-token');
  configFile = join(dir, 'plumbline.yaml');
  writeFileSync(
    configFile,
    ['source:', `  url: ${repo.url}`, `stateDir: ${join(dir, 'state')}`, 'api:', `  listen: 127.0.0.1:${await freePort()}`, `  tokenFile: ${tokenFile}`, ''].join('\n'),
  );
});
after(() => {
  repo.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function plumbline(args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, PLUMBLINE_SERVER: '', PLUMBLINE_TOKEN: '' },
    timeout: 30_000,
  });
  return { code: r.status, output: r.stdout + r.stderr };
}

function writeToken(token: string, mode: number): void {
  writeFileSync(tokenFile, `${token}\n`);
  chmodSync(tokenFile, mode);
}

test('the daemon refuses to start with a world-readable token file, naming the file, its mode and the fix', () => {
  writeToken('abc', 0o644);
  const daemon = plumbline(['daemon', '--config', configFile]);
  assert.equal(daemon.code, 1, daemon.output);
  assert.match(daemon.output, /"code":"E_TOKEN_INSECURE"/);
  assert.ok(daemon.output.includes(`API token file ${tokenFile} is open to other users (mode 0644)`), daemon.output);
  assert.ok(daemon.output.includes(`chmod 600 ${tokenFile}`), daemon.output);
  assert.doesNotMatch(daemon.output, /api listening/);

  const cli = plumbline(['status', '--config', configFile]);
  assert.equal(cli.code, 1);
  assert.match(cli.output, /^error: API token file .* is open to other users \(mode 0644\)/m);
  assert.match(cli.output, /^hint: run `chmod 600 /m);
});

test('the daemon refuses a private token of fewer than 32 characters', () => {
  writeToken('abc', 0o600);
  const daemon = plumbline(['daemon', '--config', configFile]);
  assert.equal(daemon.code, 1, daemon.output);
  assert.match(daemon.output, /"code":"E_TOKEN_TOO_SHORT"/);
  assert.ok(daemon.output.includes(`API token file ${tokenFile} holds 3 characters; a token needs at least 32`), daemon.output);
  assert.doesNotMatch(daemon.output, /api listening/);
});
