import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RecordTable } from './record-table.ts';

const dir = mkdtempSync(join(tmpdir(), 'plumbline-records-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the durable view shows a record only once its file is written', async () => {
  const table = new RecordTable<{ n: number }>((key) => join(dir, `${key}.json`));
  const put = table.put('a', { n: 1 });
  assert.deepEqual(table.get('a'), { n: 1 }, 'the engine reads its own write at once');
  assert.equal(table.getDurable('a'), undefined, 'not yet on disk, so not yet published');
  await put;
  assert.deepEqual(table.getDurable('a'), { n: 1 });
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')), { n: 1 });
});

test('concurrent writes of one record land in call order, on disk and in both views', async () => {
  const table = new RecordTable<{ n: number }>((key) => join(dir, `${key}.json`));
  await Promise.all(Array.from({ length: 20 }, (_, n) => table.put('b', { n })));
  assert.deepEqual(table.get('b'), { n: 19 });
  assert.deepEqual(table.getDurable('b'), { n: 19 });
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')), { n: 19 });
});

test('a failed write rejects its caller and does not stop the next write of that record', async () => {
  let calls = 0;
  // The first write goes under a file (ENOTDIR); the next ones go where they should.
  const table = new RecordTable<{ n: number }>((key) => (calls++ === 0 ? join(dir, 'b.json', 'not-a-dir', `${key}.json`) : join(dir, `${key}.json`)));
  const failing = table.put('c', { n: 1 });
  const next = table.put('c', { n: 2 });
  await assert.rejects(failing);
  await next;
  assert.deepEqual(table.getDurable('c'), { n: 2 });
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')), { n: 2 });
});
