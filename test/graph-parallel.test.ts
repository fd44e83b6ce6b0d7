import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { HistoryEvent } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Independent stacks whose apply takes a few seconds, so overlaps are unmistakable. */
function slowStacks(count: number, seconds: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 1; i <= count; i += 1) {
    files[`stacks/s${i}/stack.yaml`] = 'kind: terraform\napproval: auto\n';
    files[`stacks/s${i}/main.tf`] = `resource "terraform_data" "s" {\n  input = "${i}"\n  provisioner "local-exec" {\n    command = "sleep ${seconds}"\n  }\n}\n`;
  }
  return files;
}

/** The largest number of intervals open at one instant. */
function maxOverlap(events: HistoryEvent[]): number {
  const edges = events.flatMap((e) => [
    { t: Date.parse(e.startedAt!), d: 1 },
    { t: Date.parse(e.finishedAt!), d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const edge of edges) max = Math.max(max, (open += edge.d));
  return max;
}

async function converge(concurrency: number, stacks: number, seconds: number): Promise<HistoryEvent[]> {
  const repo = new TestRepo();
  cleanups.push(() => repo.dispose());
  const rev = repo.commit(slowStacks(stacks, seconds));
  const daemon = await TestDaemon.start({ sourceUrl: repo.url, concurrency });
  cleanups.push(() => daemon.dispose());
  for (let i = 1; i <= stacks; i += 1) await daemon.waitForUnit(`s${i}`, 'InSync', { revision: rev, timeoutMs: 120_000 });
  return (await daemon.history()).filter((e) => e.startedAt && e.finishedAt);
}

test('with concurrency 4, four independent stacks apply at the same time', async () => {
  // Applies long enough that all four overlap even when their plans finish far apart.
  const runs = await converge(4, 4, 12);
  const applies = runs.filter((e) => e.type === 'applied');
  assert.equal(applies.length, 4);
  assert.equal(maxOverlap(applies), 4, 'all four applies were running at one instant');
  assert.ok(maxOverlap(runs) <= 4, 'never more runs than the concurrency');
});

test('with concurrency 1, runs never overlap', async () => {
  const runs = await converge(1, 3, 2);
  assert.equal(runs.filter((e) => e.type === 'applied').length, 3);
  assert.equal(maxOverlap(runs), 1);
});
