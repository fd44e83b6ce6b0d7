import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setLongTimeout } from './timers.ts';

test('a delay beyond the 24.8-day timer limit does not fire early', async () => {
  let fired = false;
  const timer = setLongTimeout(() => (fired = true), 30 * 24 * 3600 * 1000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fired, false);
  timer.clear();
});

test('short delays fire, and clear cancels', async () => {
  let fired = 0;
  setLongTimeout(() => (fired += 1), 5);
  const cancelled = setLongTimeout(() => (fired += 10), 5);
  cancelled.clear();
  const keepAlive = setTimeout(() => undefined, 1000);
  await new Promise((r) => setTimeout(r, 40));
  clearTimeout(keepAlive);
  assert.equal(fired, 1);
});
