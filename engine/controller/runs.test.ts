import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRun } from './runs.ts';

test('runs made in the same millisecond sort in the order they were made, as the queue reads them', () => {
  const made = Array.from({ length: 50 }, (_, i) => newRun('plan', `unit-${i}`, 'a'.repeat(40)));
  const queued = [...made].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  assert.deepEqual(queued.map((r) => r.unit), made.map((r) => r.unit));
  assert.equal(new Set(made.map((r) => r.id)).size, made.length);
});
