import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { PlumblineError } from '../engine/errors.ts';
import { silentLogger } from '../engine/log.ts';
import { openStore } from '../engine/store/open.ts';
import { openSqlite, SQLITE_FILE } from '../engine/store/sql/sqlite.ts';
import { storedPlan, unitStatus } from '../testkit/store-fixtures.ts';

/**
 * A damaged plumbline.db is refused, named, and left exactly as it was:
 * never reset, never "repaired" into an empty store.
 */

const folders: string[] = [];
after(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A closed store with a few hundred plans (a file of many pages), and its database file. */
async function storeOnDisk(): Promise<{ stateDir: string; file: string }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'plumbline-damaged-'));
  folders.push(stateDir);
  const store = await openStore({ stateDir }, silentLogger);
  await store.write(async (tx) => {
    await tx.putUnit(unitStatus('web'));
    for (let i = 0; i < 300; i += 1) await tx.putPlan(storedPlan(`web-${i}`, { warnings: ['x'.repeat(500)] }));
  });
  await store.close();
  return { stateDir, file: join(stateDir, SQLITE_FILE) };
}

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function assertRefused(stateDir: string, file: string, what: RegExp): Promise<void> {
  const before = digest(file);
  await assert.rejects(openStore({ stateDir }, silentLogger), (error: PlumblineError) => {
    assert.equal(error.code, 'E_STORE_DAMAGED');
    assert.equal(error.retry, 'stalled');
    assert.ok(error.message.includes(file), `names the file: ${error.message}`);
    assert.match(error.message, what);
    assert.match(error.hint ?? '', /plumbline backup/);
    assert.match(error.hint ?? '', /never reset/);
    return true;
  });
  assert.equal(digest(file), before, 'the damaged file is left exactly as it was');
}

test('a database cut short is refused at once, saying it is truncated', async () => {
  const { stateDir, file } = await storeOnDisk();
  truncateSync(file, Math.floor(statSync(file).size / 2));
  await assertRefused(stateDir, file, /truncated/);
});

test('a database whose header was overwritten is refused', async () => {
  const { stateDir, file } = await storeOnDisk();
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from('this is not a database, it is a text file someone copied over it\n'), 0, undefined, 0);
  closeSync(fd);
  await assertRefused(stateDir, file, /SQLite header/);
});

test('a file that is not a database at all is refused', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'plumbline-damaged-'));
  folders.push(stateDir);
  const file = join(stateDir, SQLITE_FILE);
  writeFileSync(file, 'x'.repeat(10_000));
  await assertRefused(stateDir, file, /SQLite header/);
});

/** Overwrite the root page of the plans table: the header is intact, the data is not. */
function garblePlansTable(file: string): void {
  const db = new BetterSqlite3(file, { readonly: true });
  const { rootpage } = db.prepare("select rootpage from sqlite_master where name = 'plans'").get() as { rootpage: number };
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (rootpage - 1) * pageSize);
  closeSync(fd);
}

test('a garbled page is found by the integrity check and refused', async () => {
  const { stateDir, file } = await storeOnDisk();
  garblePlansTable(file);
  await assertRefused(stateDir, file, /quick_check/);
});

test('a large database opens at once; a garbled page is reported by the check that follows', async () => {
  const { stateDir, file } = await storeOnDisk();
  garblePlansTable(file);
  // As if the file were larger than what is checked before opening.
  const engine = await openSqlite(stateDir, { fullCheckAtOpenUpToBytes: 0 });
  try {
    const found = await engine.integrity;
    assert.equal(found?.code, 'E_STORE_DAMAGED');
    assert.match(found?.message ?? '', /quick_check/);
    assert.ok(found?.message.includes(file));
  } finally {
    await engine.close();
  }
});

test('an intact database passes the same check', async () => {
  const { stateDir } = await storeOnDisk();
  const engine = await openSqlite(stateDir, { fullCheckAtOpenUpToBytes: 0 });
  try {
    assert.equal(await engine.integrity, undefined);
  } finally {
    await engine.close();
  }
  const store = await openStore({ stateDir }, silentLogger);
  assert.equal((await store.listPlans({ unit: 'web' })).length, 300);
  await store.close();
});
