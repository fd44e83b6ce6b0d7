import { setTimeout as sleep } from 'node:timers/promises';
import { TestRepo } from '../../testkit/git-repo.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { stackFiles } from '../lib/fixtures.ts';
import { initLockWaits, logSize, readLogSince } from '../lib/logs.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { figure, type Figure } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const RESOURCES = 5;

interface Round {
  ms: number;
  /** Per plan: waited for the daemon-wide init lock, and the init itself. */
  initWaitMs: number[];
  initMs: number[];
}

/** One commit changing every stack: sync -> all applied. */
async function round(daemon: BenchDaemon, names: string[], revision: string): Promise<Round> {
  const offset = logSize(daemon.logFile);
  const t0 = performance.now();
  await daemon.sync();
  await daemon.waitSettled(revision, names, { what: `${names.length} stacks applied`, timeoutMs: 10 * 60_000, intervalMs: 50 });
  const ms = performance.now() - t0;
  await sleep(200);
  const waits = initLockWaits(readLogSince(daemon.logFile, offset));
  return { ms, initWaitMs: waits.map((w) => w.waitMs), initMs: waits.map((w) => w.initMs) };
}

async function measure(ctx: BenchContext, variant: { id: string; label: string; sleepSeconds?: number }): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const n = ctx.scale.parallelStacks;
  const names = Array.from({ length: n }, (_, i) => `par-${i + 1}`);
  const files = (value: string) => Object.assign({}, ...names.map((name) => stackFiles(name, { value, resources: RESOURCES, ...(variant.sleepSeconds ? { sleepSeconds: variant.sleepSeconds } : {}) })));
  const repo = new TestRepo(ctx.dir(`${variant.id}-repo`));
  const first = repo.commit(files('v0'), 'stacks');
  const one = await ctx.daemon({ dir: ctx.dir(`${variant.id}-c1`), label: `${variant.id}-c1`, sourceUrl: repo.url, concurrency: 1 });
  const four = await ctx.daemon({ dir: ctx.dir(`${variant.id}-c4`), label: `${variant.id}-c4`, sourceUrl: repo.url, concurrency: 4 });
  await round(one, names, first);
  await round(four, names, first);
  const serial: number[] = [];
  const parallel: number[] = [];
  const ratio: number[] = [];
  const initWait: number[] = [];
  const initTime: number[] = [];
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const revision = repo.commit(files(`p${rep}`), `all stacks p${rep}`);
    let r1: Round;
    let r4: Round;
    if (rep % 2 === 0) {
      r1 = await round(one, names, revision);
      r4 = await round(four, names, revision);
    } else {
      r4 = await round(four, names, revision);
      r1 = await round(one, names, revision);
    }
    const t1 = r1.ms;
    const t4 = r4.ms;
    serial.push(t1);
    parallel.push(t4);
    ratio.push(t1 / t4);
    initWait.push(...r4.initWaitMs);
    initTime.push(...r4.initMs);
    progress(`parallelism ${variant.id} ${rep + 1}/${ctx.reps}: concurrency 1 ${t1.toFixed(0)} ms, 4 ${t4.toFixed(0)} ms, ratio ${(t1 / t4).toFixed(2)}`);
  }
  const profiles = [await ctx.stopDaemon(one), await ctx.stopDaemon(four)].filter(Boolean);
  return {
    figures: [
      figure(`parallelism.${variant.id}.ratio`, `${variant.label}: concurrency 1 / 4`, 'ratio', ratio),
      figure(`parallelism.${variant.id}.c1`, '  concurrency 1 (sync -> all applied)', 'ms', serial),
      figure(`parallelism.${variant.id}.c4`, '  concurrency 4 (sync -> all applied)', 'ms', parallel),
    ],
    details: {
      [`${variant.id}InitLockMedians`]: { concurrency4InitWaitMs: median(initWait), concurrency4InitMs: median(initTime), plans: initWait.length },
      ...(profiles.length > 0 ? { [`${variant.id}Profiles`]: profiles.join('\n') } : {}),
    },
  };
}

/**
 * Parallelism: `parallelStacks` independent stacks changed by one commit,
 * planned and applied by a daemon with concurrency 1 and one with concurrency
 * 4 (same repository, separate state), alternating which goes first.
 */
export async function parallelism(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.scale.parallelStacks;
  const plain = await measure(ctx, { id: 'cpu', label: `${n} stacks` });
  const figures = [...plain.figures];
  const details: Record<string, unknown> = { ...plain.details };
  const notes = [`Each stack has ${RESOURCES} terraform_data resources; a round is one commit changing all ${n} stacks, from POST /api/v1/sync until all are InSync at that commit.`];
  if (ctx.scale.parallelSlow) {
    const slow = await measure(ctx, { id: 'slow', label: `${n} stacks, 1 s apply latency`, sleepSeconds: 1 });
    figures.push(...slow.figures);
    Object.assign(details, slow.details);
    notes.push('The "1 s apply latency" stacks replace their resources through a local-exec `sleep 1` provisioner, standing for a cloud API that makes an apply wait.');
  }
  return { id: 'parallelism', title: 'Parallelism', figures, details, notes };
}
