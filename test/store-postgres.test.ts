import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../engine/log.ts';
import { PlumblineError } from '../engine/errors.ts';
import { openStore } from '../engine/store/open.ts';
import { IDLE_IN_TRANSACTION_TIMEOUT_MS } from '../engine/store/sql/postgres.ts';
import { type PostgresServer, startPostgres } from '../testkit/postgres.ts';
import { repoRoot } from '../testkit/files.ts';
import { describeStoreContract, openCase } from '../testkit/store-contract.ts';
import { unitStatus } from '../testkit/store-fixtures.ts';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

describeStoreContract('PostgreSQL', () => ({
  async fresh(prepare) {
    const stateDir = mkdtempSync(join(tmpdir(), 'plumbline-store-'));
    prepare?.(stateDir);
    const url = await server.createDatabase();
    return openCase(
      { stateDir, store: { url, passwordFile: server.passwordFile } },
      {
        async exec(sqlText) {
          await server.psql(sqlText, new URL(url).pathname.slice(1));
        },
        async openBackup(file) {
          const restored = await server.restore(file);
          return openStore({ stateDir, store: { url: restored, passwordFile: server.passwordFile } }, silentLogger);
        },
      },
      [stateDir],
    );
  },
}));

test('plumbline migrate and plumbline backup on PostgreSQL: the password from store.passwordFile, the copy a pg_dump archive', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-store-cli-'));
  try {
    const url = await server.createDatabase();
    copyFileSync(server.passwordFile, join(dir, 'db-password'));
    const configFile = join(dir, 'plumbline.yaml');
    writeFileSync(configFile, `source:\n  url: file:///srv/infra.git\nstateDir: state\nstore:\n  url: ${url}\n  passwordFile: db-password\n`);
    const cli = (args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, PGPASSWORD: '' } });

    const migrated = cli(['migrate', '--config', configFile]);
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.match(migrated.stdout, /^applied migration 0001_initial$/m);
    assert.match(migrated.stderr, new RegExp(`store ${url.replace(/[/.]/g, '\\$&')} is up to date`));

    const store = await openStore({ stateDir: join(dir, 'state'), store: { url, passwordFile: server.passwordFile } }, silentLogger);
    await store.write((tx) => tx.putUnit(unitStatus('web', { message: 'kept in the backup' })));
    await store.close();

    const file = join(dir, 'store.dump');
    const backup = cli(['backup', '--config', configFile, '--to', file]);
    assert.equal(backup.status, 0, backup.stderr);
    assert.match(backup.stdout, /^backup of postgres:\/\/plumbline@127\.0\.0\.1:\d+\/\w+ written to .*store\.dump/m);
    assert.doesNotMatch(backup.stdout + backup.stderr, new RegExp(server.password));
    assert.equal(statSync(file).mode & 0o077, 0, 'the archive is private to its user');
    const restored = await server.restore(file);
    const copy = await openStore({ stateDir: join(dir, 'state'), store: { url: restored, passwordFile: server.passwordFile } }, silentLogger);
    try {
      assert.equal((await copy.getUnit('web'))?.message, 'kept in the backup');
    } finally {
      await copy.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a member frozen inside a write transaction does not hold the others’ writes: the server ends its session and its write is rolled back', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'plumbline-store-a-')), mkdtempSync(join(tmpdir(), 'plumbline-store-b-'))];
  const url = await server.createDatabase();
  const open = (stateDir: string) => openStore({ stateDir, store: { url, passwordFile: server.passwordFile } }, silentLogger);
  const frozen = await open(dirs[0]!);
  // Members sharing a store share its sealing key, as the docs ask.
  copyFileSync(join(dirs[0]!, 'sealing.key'), join(dirs[1]!, 'sealing.key'));
  const other = await open(dirs[1]!);
  try {
    let wake!: () => void;
    const asleep = new Promise<void>((resolve) => (wake = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    // The write lock is taken, then the "member" stops issuing statements, as a process under SIGSTOP would.
    const stale = frozen.write(async (tx) => {
      await tx.putUnit(unitStatus('web', { message: 'written by the frozen member' }));
      entered();
      await asleep;
      await tx.putUnit(unitStatus('db', { message: 'written by the frozen member' }));
    });
    const staleOutcome = stale.then(
      () => undefined,
      (error: unknown) => error,
    );
    await inside;
    const started = Date.now();
    await other.write((tx) => tx.putUnit(unitStatus('web', { message: 'written by the live member' })));
    const waited = Date.now() - started;
    assert.ok(waited < IDLE_IN_TRANSACTION_TIMEOUT_MS + 20_000, `the live member's write waited ${waited} ms`);
    wake();
    const error = (await staleOutcome) as PlumblineError | undefined;
    assert.ok(error instanceof PlumblineError, 'the frozen member’s write fails when it wakes');
    assert.equal(error.code, 'E_STORE_WRITE');
    assert.equal(error.retry, 'transient');
    assert.equal((await other.getUnit('web'))?.message, 'written by the live member');
    assert.equal(await other.getUnit('db'), undefined, 'nothing of the frozen member’s transaction was kept');
    // The frozen member's pool replaces the ended connection: its next write succeeds.
    await frozen.write((tx) => tx.putUnit(unitStatus('db', { message: 'after waking' })));
    assert.equal((await other.getUnit('db'))?.message, 'after waking');
  } finally {
    await Promise.all([frozen.close(), other.close()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});
