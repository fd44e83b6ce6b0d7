import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Kysely, sql } from './kysely.ts';
import type { Database } from './schema.ts';
import { openSqlite, PAGE_CACHE_KIB } from './sqlite.ts';

test('both connections of the store keep a page cache of PAGE_CACHE_KIB, not the driver-built 16 MiB', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'plumbline-sqlite-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const engine = await openSqlite(stateDir);
  try {
    const cacheSize = async (db: Kysely<Database>) =>
      (await sql<{ cache_size: number }>`pragma cache_size`.execute(db)).rows[0]?.cache_size;
    assert.equal(await cacheSize(engine.db), -PAGE_CACHE_KIB, 'the reader');
    assert.equal(await engine.transaction((db) => cacheSize(db)), -PAGE_CACHE_KIB, 'the writer');
    assert.ok(PAGE_CACHE_KIB < 16_000);
  } finally {
    await engine.close();
  }
});
