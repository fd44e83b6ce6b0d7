import { setTimeout as sleep } from 'node:timers/promises';
import { TestRepo } from '../../testkit/git-repo.ts';
import { adaptiveInterval, waitFor } from '../../testkit/wait.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { configPlay, inventoryFiles, seedConverged } from '../lib/fixtures.ts';
import { handAnsible, timed } from '../lib/hand.ts';
import { commandsOf, logSize, readLogSince, type LogEntry } from '../lib/logs.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

const UNIT = 'conv-many';

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
 * planned again through Plumbline (`sync --unit`: ansible-playbook --check
 * --diff finds nothing to change), against the same play on the same hosts
 * by hand (`ansible-playbook --check`, Ansible's defaults), alternating which
 * goes first.
 */
export async function converge(ctx: BenchContext): Promise<ScenarioResult> {
  const pool = await ctx.hosts();
  const many = pool.hosts.slice(0, ctx.scale.convergeHosts);
  // Already converged: the first reconcile only checks (and would apply whatever differs).
  seedConverged(many, UNIT, 'v0');
  const repo = new TestRepo(ctx.dir('conv-repo'));
  const revision = repo.commit(inventoryFiles(UNIT, { hosts: many, knownHosts: pool.knownHosts(), play: configPlay(UNIT) }), 'inventory');
  const hand = handAnsible((name) => ctx.dir(name), 'conv-hand', { hosts: many, privateKeyFile: pool.ssh.privateKeyFile, knownHostsFile: pool.ssh.knownHostsFile, play: configPlay(UNIT) });
  const handCheck = () => timed('ansible-playbook', ['-i', 'hosts.yml', 'site.yml', '--check', '-e', 'value=v0'], hand);
  const daemon = await ctx.daemon({ dir: ctx.dir('conv'), label: 'converge', sourceUrl: repo.url, concurrency: 4, privateKeyFile: pool.ssh.privateKeyFile });
  progress(`converge: first converge of ${many.length} hosts...`);
  await daemon.sync();
  await daemon.waitSettled(revision, [UNIT], { what: 'the first converge', timeoutMs: 15 * 60_000, intervalMs: 500 });
  // A first hand run, so both sides start with warm caches (not in the smoke run).
  if (!ctx.smoke) await handCheck();
  const plumbline: number[] = [];
  const hands: number[] = [];
  const ratio: number[] = [];
  const breakdowns: Record<string, number>[] = [];
  for (let rep = 0; rep < ctx.heavyReps; rep += 1) {
    let p = 0;
    let h = 0;
    if (rep % 2 === 0) {
      const r = await noop(daemon, UNIT);
      breakdowns.push(r.breakdown);
      p = r.ms;
      h = await handCheck();
    } else {
      h = await handCheck();
      const r = await noop(daemon, UNIT);
      breakdowns.push(r.breakdown);
      p = r.ms;
    }
    plumbline.push(p);
    hands.push(h);
    ratio.push(p / h);
    progress(`converge ${rep + 1}/${ctx.heavyReps}: ${many.length} hosts, plumbline ${p.toFixed(0)} ms, by hand ${h.toFixed(0)} ms, ratio ${(p / h).toFixed(2)}`);
  }
  const profile = await ctx.stopDaemon(daemon);
  const medianOf = (list: Record<string, number>[]) => Object.fromEntries([...new Set(list.flatMap((b) => Object.keys(b)))].sort().map((k) => [k, median(list.map((b) => b[k] ?? 0))]));
  return {
    id: 'converge',
    title: 'No-op converge',
    figures: [
      figure('converge.ratio', `${many.length} hosts already converged: Plumbline / by hand`, 'ratio', ratio, { text: '<= 0.50', test: (v) => v <= 0.5 }),
      figure('converge.plumbline', '  through Plumbline (sync --unit -> NoChanges)', 'ms', plumbline),
      figure('converge.hand', '  by hand (ansible-playbook --check)', 'ms', hands),
    ],
    details: { breakdownMedians: medianOf(breakdowns), ansibleStrategy: ctx.ansibleStrategy, ...(profile ? { profile } : {}) },
    notes: [
      'A no-op converge is `plumbline sync --unit NAME` (POST /api/v1/sync {unit}) on a converged inventory, timed until the unit is InSync with a new NoChanges plan.',
      `By hand: ansible-playbook --check on the same hosts and play, Ansible's defaults (forks 5, no pipelining, its own ControlPersist); the daemons ran with ansible.strategy ${ctx.ansibleStrategy}.`,
    ],
  };
}
