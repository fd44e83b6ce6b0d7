import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../engine/log.ts';
import { openStore } from '../engine/store/open.ts';
import { repoRoot } from '../testkit/files.ts';
import { writerProcess } from '../testkit/store-contract.ts';
import { unitStatus } from '../testkit/store-fixtures.ts';
import { waitFor } from '../testkit/wait.ts';

const bin = join(repoRoot, 'bin', 'plumbline.mjs');
const folders: string[] = [];
after(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A daemon config whose state directory is `state/` beside it. */
function configIn(extra = ''): { dir: string; stateDir: string; configFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-store-cli-'));
  folders.push(dir);
  const stateDir = join(dir, 'state');
  const configFile = join(dir, 'plumbline.yaml');
  writeFileSync(configFile, `source:\n  url: file:///srv/infra.git\nstateDir: ${stateDir}\n${extra}`);
  return { dir, stateDir, configFile };
}

function plumbline(args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

test('plumbline migrate creates the schema, imports a JSON-file store, says so, and then has nothing to do', () => {
  const { stateDir, configFile } = configIn();
  mkdirSync(stateDir);
  cpSync(join(repoRoot, 'test', 'fixtures', 'json-store', 'store'), join(stateDir, 'store'), { recursive: true });

  const first = plumbline(['migrate', '--config', configFile]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^applied migration 0001_initial$/m);
  assert.match(first.stdout, /^imported the JSON-file store: 3 units, 4 plans, 2 change sets, 3 reads, 11 history events, the source status$/m);
  assert.match(first.stdout, new RegExp(`^its folder was moved to ${stateDir}/store\\.imported-\\d{8}T\\d{6}$`, 'm'));
  assert.match(first.stderr, new RegExp(`store ${stateDir}/plumbline\\.db is up to date`));
  assert.equal(existsSync(join(stateDir, 'store')), false);

  const again = plumbline(['migrate', '--config', configFile, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), { store: join(stateDir, 'plumbline.db'), migrations: [] });
});

test('plumbline migrate does not run beside a running daemon', async () => {
  const { stateDir, configFile } = configIn();
  mkdirSync(stateDir);
  // Any live process holding the daemon lock stands for the daemon.
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    writeFileSync(join(stateDir, 'daemon.lock'), `${holder.pid}\n`);
    const refused = plumbline(['migrate', '--config', configFile]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /E_STATE_DIR_LOCKED|another Plumbline daemon/);
    assert.match(refused.stderr, /stop it first/);
    assert.equal(existsSync(join(stateDir, 'plumbline.db')), false, 'nothing was created');
  } finally {
    holder.kill();
  }
});

test('plumbline backup copies a consistent store while another process writes to it', async () => {
  const { dir, stateDir, configFile } = configIn();
  const store = await openStore({ stateDir }, silentLogger);
  await store.write((tx) => tx.putUnit(unitStatus('counter', { message: '0' })));
  const writer = writerProcess({ stateDir }, 300);
  try {
    await waitFor(async () => Number((await store.getUnit('counter'))?.message) >= 5, { what: 'the writer to start', timeoutMs: 30_000, intervalMs: 20 });
    const file = join(dir, 'backup.db');
    const backup = plumbline(['backup', '--config', configFile, '--to', file]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, new RegExp(`^backup of ${stateDir}/plumbline\\.db written to ${file} \\(\\d+\\.\\d MiB\\)$`, 'm'));
    assert.equal(statSync(file).mode & 0o077, 0, 'the copy is private to its user');
    await writer;

    // Restore as the documentation says: the copy becomes plumbline.db of a (stopped) daemon's state directory.
    const restored = join(dir, 'restored');
    mkdirSync(restored);
    cpSync(file, join(restored, 'plumbline.db'));
    // The sealing key is kept apart from backups (docs/configuration.md): the restore brings it back.
    cpSync(join(stateDir, 'sealing.key'), join(restored, 'sealing.key'));
    const copy = await openStore({ stateDir: restored }, silentLogger);
    try {
      const counter = Number((await copy.getUnit('counter'))?.message);
      assert.ok(counter >= 5);
      assert.equal((await copy.listHistory({ unit: 'counter', limit: 1000 })).length, counter, 'the copy is one instant of the store');
    } finally {
      await copy.close();
    }
  } finally {
    await writer.catch(() => undefined);
    await store.close();
  }

  const overLive = plumbline(['backup', '--config', configFile, '--to', join(stateDir, 'plumbline.db')]);
  assert.equal(overLive.code, 1);
  assert.match(overLive.stderr, /is the store's own database/);
  const noStore = configIn();
  const missing = plumbline(['backup', '--config', noStore.configFile, '--to', join(noStore.dir, 'b.db')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /there is no store database at/);
});
