import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapLimit } from './concurrency.ts';

test('mapLimit keeps input order and never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, n));
    running -= 1;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30, 0]);
  assert.equal(peak, 2);
});

test('mapLimit of nothing is nothing, and a failure rejects', async () => {
  assert.deepEqual(await mapLimit([], 4, async () => 1), []);
  await assert.rejects(mapLimit([1, 2], 4, async (n) => { if (n === 2) throw new Error('boom'); return n; }), /boom/);
});
