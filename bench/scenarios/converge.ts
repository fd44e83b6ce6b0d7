import { setTimeout as sleep } from 'node:timers/promises';
import { TestRepo } from '../../testkit/git-repo.ts';
import { adaptiveInterval, waitFor } from '../../testkit/wait.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { configPlay, inventoryFiles, seedConverged } from '../lib/fixtures.ts';
import { commandsOf, logSize, readLogSince, type LogEntry } from '../lib/logs.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

/** `sync --unit`: plan an already converged inventory again; ms until its NoChanges plan settles it. */
async function noop(daemon: BenchDaemon, unit: string): Promise<{ ms: number; breakdown: Record<string, number> }> {
  const before = (await daemon.units()).find((u) => u.name === unit)!;
  const offset = logSize(daemon.logFile);
  const t0 = performance.now();
  await daemon.sync(unit);
  const after = await waitFor(
    async () => {
      const u = (await daemon.units()).find((x) => x.name === unit);
      return u && u.phase === 'InSync' && u.planId !== before.planId ? u : undefined;
    },
    { what: `a new plan of ${unit}`, timeoutMs: 10 * 60_000, intervalMs: adaptiveInterval },
  );
  const ms = performance.now() - t0;
  if (after.reason !== 'NoChanges') throw new Error(`${unit} was not converged: ${after.reason} ${after.message}`);
  await sleep(200);
  const entries = readLogSince(daemon.logFile, offset);
  const mine = (e: LogEntry) => e.unit === unit;
  const breakdown: Record<string, number> = { totalMs: Math.round(ms) };
  for (const c of commandsOf(entries, mine)) breakdown[`${c.tool} ${c.sub}`.trim()] = (breakdown[`${c.tool} ${c.sub}`.trim()] ?? 0) + c.durationMs;
  const pre = entries.find((e) => mine(e) && e.msg === 'ansible preflight finished');
  if (pre) breakdown.preflightMs = Number(pre.ms);
  return { ms, breakdown };
}

/**
 * No-op converge: an inventory of `convergeHosts` hosts already converged,
 * planned again through Plumbline (`sync --unit`: preflight, ansible-inventory,
 * ansible-playbook --check --diff, nothing to change), against the same play
 * on one host.
 */
export async function converge(ctx: BenchContext): Promise<ScenarioResult> {
  const pool = await ctx.hosts();
  const many = pool.hosts.slice(0, ctx.scale.convergeHosts);
  // Already converged: the first reconcile only checks (and would apply whatever differs).
  seedConverged(many, 'conv-many', 'v0');
  seedConverged([pool.hosts[0]!], 'conv-one', 'v0');
  const repo = new TestRepo(ctx.dir('conv-repo'));
  const revision = repo.commit(
    {
      ...inventoryFiles('conv-many', { hosts: many, knownHosts: pool.knownHosts(), play: configPlay('conv-many') }),
      ...inventoryFiles('conv-one', { hosts: [pool.hosts[0]!], knownHosts: pool.knownHosts(), play: configPlay('conv-one') }),
    },
    'inventories',
  );
  const daemon = await ctx.daemon({ dir: ctx.dir('conv'), label: 'converge', sourceUrl: repo.url, concurrency: 4, privateKeyFile: pool.ssh.privateKeyFile });
  progress(`converge: first converge of ${many.length} hosts and 1 host...`);
  await daemon.sync();
  await daemon.waitSettled(revision, ['conv-many', 'conv-one'], { what: 'the first converge', timeoutMs: 15 * 60_000, intervalMs: 500 });
  const manyMs: number[] = [];
  const oneMs: number[] = [];
  const ratio: number[] = [];
  const breakdowns: { many: Record<string, number>[]; one: Record<string, number>[] } = { many: [], one: [] };
  for (let rep = 0; rep < ctx.heavyReps; rep += 1) {
    const order = rep % 2 === 0 ? (['conv-many', 'conv-one'] as const) : (['conv-one', 'conv-many'] as const);
    const got: Record<string, number> = {};
    for (const unit of order) {
      const r = await noop(daemon, unit);
      got[unit] = r.ms;
      breakdowns[unit === 'conv-many' ? 'many' : 'one'].push(r.breakdown);
    }
    manyMs.push(got['conv-many']!);
    oneMs.push(got['conv-one']!);
    ratio.push(got['conv-many']! / got['conv-one']!);
    progress(`converge ${rep + 1}/${ctx.heavyReps}: ${many.length} hosts ${got['conv-many']!.toFixed(0)} ms, 1 host ${got['conv-one']!.toFixed(0)} ms`);
  }
  const profile = await ctx.stopDaemon(daemon);
  const medianOf = (list: Record<string, number>[]) => Object.fromEntries([...new Set(list.flatMap((b) => Object.keys(b)))].sort().map((k) => [k, median(list.map((b) => b[k] ?? 0))]));
  return {
    id: 'converge',
    title: 'No-op converge',
    figures: [
      figure('converge.many', `${many.length} hosts already converged`, 'ms', manyMs),
      figure('converge.one', '1 host already converged', 'ms', oneMs),
      figure('converge.ratio', `${many.length} hosts / 1 host`, 'ratio', ratio),
    ],
    details: { breakdownMediansMany: medianOf(breakdowns.many), breakdownMediansOne: medianOf(breakdowns.one), ...(profile ? { profile } : {}) },
    notes: ['A no-op converge is `plumbline sync --unit NAME` (POST /api/v1/sync {unit}) on a converged inventory, timed until the unit is InSync with a new NoChanges plan.'],
  };
}
