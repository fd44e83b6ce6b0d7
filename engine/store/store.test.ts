import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { secrets } from '../secrets.ts';
import { Store } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'plumbline-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const unit = {
  name: 'web',
  kind: 'terraform',
  path: 'stacks/web',
  phase: 'InSync' as const,
  reason: 'Applied',
  message: 'ok',
  lastAttemptedRevision: 'a',
  lastAppliedRevision: 'a',
  planId: null,
  updatedAt: new Date().toISOString(),
};

test('records survive a reopen, and a torn history line from a crash is dropped', async () => {
  const store = new Store(dir);
  await store.open();
  await store.putUnit(unit);
  await store.appendHistory({ type: 'applied', unit: 'web', revision: 'a', planId: null, message: 'one' });
  await store.appendHistory({ type: 'applied', unit: 'web', revision: 'b', planId: null, message: 'two' });
  appendFileSync(join(dir, 'history.jsonl'), '{"seq":3,"type":"appl'); // cut off mid-write

  const reopened = new Store(dir);
  await reopened.open();
  assert.deepEqual(reopened.getUnit('web'), unit);
  assert.deepEqual(reopened.listHistory().map((e) => e.message), ['two', 'one']);
  const next = await reopened.appendHistory({ type: 'applied', unit: 'web', revision: 'c', planId: null, message: 'three' });
  assert.equal(next.seq, 3);
  const third = new Store(dir);
  await third.open();
  assert.deepEqual(third.listHistory().map((e) => e.message), ['three', 'two', 'one']);
});

test('known secrets are masked before anything is written', async () => {
  secrets.add('s3cret-value-for-store');
  const store = new Store(dir);
  await store.open();
  await store.putUnit({ ...unit, message: 'failed: password s3cret-value-for-store rejected' });
  const onDisk = readFileSync(join(dir, 'units', 'web.json'), 'utf8');
  assert.ok(!onDisk.includes('s3cret-value-for-store'));
  assert.match(onDisk, /\(sensitive\)/);
});
