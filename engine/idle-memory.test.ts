import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { test, type TestContext } from 'node:test';
import { fullCollection, IdleCollector } from './idle-memory.ts';

const MiB = 2 ** 20;

/**
 * A collector over a heap whose size the test sets; collecting brings it back
 * to `after`, and the young generation to `young.after` (2 MiB unless a test
 * makes V8 keep it large).
 */
function setup(t: TestContext, after = 20 * MiB) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const heap = { bytes: 20 * MiB };
  const young = { bytes: 2 * MiB, after: 2 * MiB };
  const collector = new IdleCollector({
    quietMs: 1_000,
    growthBytes: 16 * MiB,
    retryMs: 10_000,
    retries: 3,
    youngBytes: 4 * MiB,
    heapBytes: () => heap.bytes,
    youngGenerationBytes: () => young.bytes,
    collect: () => ((heap.bytes = after), (young.bytes = young.after)),
  });
  t.after(() => collector.stop());
  return { heap, young, collector, tick: (ms: number) => t.mock.timers.tick(ms) };
}

test('after a burst of runs, one collection once the daemon has been quiet for a while', (t) => {
  const { heap, collector, tick } = setup(t);
  collector.runStarted();
  collector.runStarted();
  heap.bytes = 55 * MiB;
  collector.runFinished();
  tick(5_000);
  assert.equal(collector.collections, 0, 'a run is still in flight');
  collector.runFinished();
  tick(500);
  collector.polled();
  tick(499);
  assert.equal(collector.collections, 0, 'not quiet long enough yet');
  collector.polled();
  tick(1);
  assert.equal(collector.collections, 1, 'polls in between do not put it off');
  assert.equal(heap.bytes, 20 * MiB);
  tick(10_000);
  assert.equal(collector.collections, 1, 'once per burst');
});

test('idle polls that grow the heap little cost no collection', (t) => {
  const { heap, collector, tick } = setup(t);
  for (let i = 0; i < 20; i += 1) {
    heap.bytes += 512 * 1024;
    collector.polled();
    tick(60_000);
  }
  assert.equal(collector.collections, 0);
  heap.bytes += 8 * MiB;
  collector.polled();
  tick(60_000);
  assert.equal(collector.collections, 1, 'growth adds up from the last collection');
});

test('a run started while waiting puts the collection off until it ends', (t) => {
  const { heap, collector, tick } = setup(t);
  heap.bytes = 60 * MiB;
  collector.polled();
  tick(900);
  collector.runStarted();
  tick(5_000);
  assert.equal(collector.collections, 0);
  collector.runFinished();
  tick(999);
  assert.equal(collector.collections, 0);
  tick(1);
  assert.equal(collector.collections, 1);
});

test('growth is measured from what the last collection left', (t) => {
  const { heap, collector, tick } = setup(t, 30 * MiB);
  heap.bytes = 60 * MiB;
  collector.polled();
  tick(1_000);
  assert.equal(collector.collections, 1);
  heap.bytes = 40 * MiB;
  collector.polled();
  tick(1_000);
  assert.equal(collector.collections, 1, '10 MiB above the 30 MiB the collection left');
});

/** After a burst: the heap grew, and V8, still seeing the burst's allocation rate, keeps its young generation large through a collection. */
function afterBurst(t: TestContext) {
  const state = setup(t);
  state.heap.bytes = 60 * MiB;
  state.young.bytes = 32 * MiB;
  state.young.after = 32 * MiB;
  return state;
}

test('a young generation the collection left large is collected again after a longer quiet, until it shrinks', (t) => {
  const { young, collector, tick } = afterBurst(t);
  collector.runStarted();
  collector.runFinished();
  tick(1_000);
  assert.equal(collector.collections, 1);
  tick(9_999);
  assert.equal(collector.collections, 1, 'not before the retry wait');
  young.after = 1 * MiB; // quiet long enough: V8 shrinks it
  tick(1);
  assert.equal(collector.collections, 2);
  assert.equal(young.bytes, 1 * MiB);
  tick(60_000);
  assert.equal(collector.collections, 2, 'no more once it is small');
});

test('retries are bounded when the young generation never shrinks (polls keep the rate up)', (t) => {
  const { heap, collector, tick } = afterBurst(t);
  collector.polled();
  tick(1_000);
  for (let i = 0; i < 10; i += 1) {
    collector.polled();
    tick(10_000);
  }
  assert.equal(collector.collections, 1 + 3);
  heap.bytes += 20 * MiB;
  collector.polled();
  tick(1_000);
  assert.equal(collector.collections, 5, 'a new burst collects (and may retry) again');
});

test('a run started during the retry wait puts the retry off until it ends', (t) => {
  const { collector, tick } = afterBurst(t);
  collector.polled();
  tick(1_000);
  assert.equal(collector.collections, 1);
  collector.runStarted();
  tick(30_000);
  assert.equal(collector.collections, 1, 'never while a run is in flight');
  collector.runFinished();
  tick(1_000);
  assert.equal(collector.collections, 2, 'retried once quiet again');
});

test('the full collection is one Node makes available to a daemon started without --expose-gc', () => {
  let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `garbage ${i}` }));
  const full = getHeapStatistics().used_heap_size;
  garbage = undefined;
  fullCollection();
  assert.equal(garbage, undefined);
  assert.ok(getHeapStatistics().used_heap_size < full, 'the garbage was collected');
});
