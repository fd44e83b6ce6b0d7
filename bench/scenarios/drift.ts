import { TestRepo } from '../../testkit/git-repo.ts';
import { waitFor } from '../../testkit/wait.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import { configPlay, inventoryFiles, seedConverged, stackFiles } from '../lib/fixtures.ts';
import { logSize, readLogSince } from '../lib/logs.ts';
import { memoryOf, resetPeak, treeRss } from '../lib/proc.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';

/**
 * Drift checks: `driftStacks` stacks and an inventory of `driftHosts` hosts,
 * all applied. One round is POST /api/v1/drift and a wait until every unit's
 * lastDriftCheckAt moved. The daemon's peak memory over the round is its
 * VmHWM after resetting it (/proc/<pid>/clear_refs) at the start; the peak of
 * the daemon with its terraform/ansible children is sampled every 100 ms.
 */
export async function drift(ctx: BenchContext): Promise<ScenarioResult> {
  const pool = await ctx.hosts();
  const hosts = pool.hosts.slice(0, ctx.scale.driftHosts);
  seedConverged(hosts, 'drift-fleet', 'v0');
  const repo = new TestRepo(ctx.dir('drift-repo'));
  const files: Record<string, string> = {};
  const names: string[] = [];
  for (let i = 0; i < ctx.scale.driftStacks; i += 1) {
    const name = `dr-${String(i).padStart(3, '0')}`;
    names.push(name);
    Object.assign(files, stackFiles(name, { value: 'v0' }));
  }
  Object.assign(files, inventoryFiles('drift-fleet', { hosts, knownHosts: pool.knownHosts(), play: configPlay('drift-fleet') }));
  names.push('drift-fleet');
  const revision = repo.commit(files, 'drift repository');
  const daemon = await ctx.daemon({ dir: ctx.dir('drift'), label: 'drift', sourceUrl: repo.url, concurrency: 4, privateKeyFile: pool.ssh.privateKeyFile });
  progress(`drift: first converge of ${ctx.scale.driftStacks} stacks and ${hosts.length} hosts...`);
  const warmStart = performance.now();
  await daemon.sync();
  await daemon.waitSettled(revision, names, { what: 'the first converge', timeoutMs: 30 * 60_000, intervalMs: 1_000 });
  const warmupSeconds = (performance.now() - warmStart) / 1000;

  const seconds: number[] = [];
  const daemonPeak: number[] = [];
  const treePeak: number[] = [];
  const drifted: number[] = [];
  const skipped: number[] = [];
  const inventoryCheck: number[] = [];
  const stackCheck: number[] = [];
  for (let rep = 0; rep < ctx.heavyReps; rep += 1) {
    const before = new Map((await daemon.units()).map((u) => [u.name, u.lastDriftCheckAt ?? '']));
    const offset = logSize(daemon.logFile);
    const peakReset = resetPeak(daemon.pid);
    let tree = 0;
    let rssPeak = 0;
    const sampler = setInterval(() => {
      tree = Math.max(tree, treeRss(daemon.pid));
      rssPeak = Math.max(rssPeak, memoryOf(daemon.pid)?.rssBytes ?? 0);
    }, 100);
    const t0 = performance.now();
    let elapsed: number;
    try {
      const answer = await daemon.drift();
      skipped.push(answer.skipped.length);
      const units = await waitFor(
        async () => {
          const all = await daemon.units();
          const done = all.filter((u) => answer.scheduled.includes(u.name) && (u.lastDriftCheckAt ?? '') > (before.get(u.name) ?? ''));
          return done.length === answer.scheduled.length ? all : undefined;
        },
        { what: 'a full drift round', timeoutMs: 30 * 60_000, intervalMs: 250 },
      );
      elapsed = performance.now() - t0;
      drifted.push(units.filter((u) => u.phase === 'Drifted').length);
    } finally {
      clearInterval(sampler);
    }
    const hwm = memoryOf(daemon.pid)?.hwmBytes ?? 0;
    // How long each unit's check took (its plan step), from the daemon log.
    for (const e of readLogSince(daemon.logFile, offset)) {
      if (e.msg !== 'step finished' || e.step !== 'plan' || !e.unit) continue;
      (e.unit === 'drift-fleet' ? inventoryCheck : stackCheck).push(Number(e.ms ?? 0));
    }
    seconds.push(elapsed / 1000);
    daemonPeak.push((peakReset ? hwm : rssPeak) / 2 ** 20);
    treePeak.push(tree / 2 ** 20);
    progress(`drift ${rep + 1}/${ctx.heavyReps}: ${(elapsed / 1000).toFixed(1)} s, daemon peak ${(hwm / 2 ** 20).toFixed(0)} MiB, with children ${(tree / 2 ** 20).toFixed(0)} MiB`);
  }
  const profile = await ctx.stopDaemon(daemon);
  return {
    id: 'drift',
    title: `Drift round (${ctx.scale.driftStacks} stacks, ${hosts.length} hosts)`,
    figures: [
      figure('drift.seconds', 'one full drift round', 's', seconds),
      figure('drift.daemonPeak', 'daemon peak RSS (VmHWM)', 'MiB', daemonPeak),
      figure('drift.treePeak', 'daemon + children peak RSS (sampled)', 'MiB', treePeak),
      figure('drift.drifted', 'units reported drifted', 'count', drifted, { text: '= 0', test: (v) => v === 0, all: true }),
      figure('drift.skipped', 'units skipped by the round', 'count', skipped, { text: '= 0', test: (v) => v === 0, all: true }),
    ],
    details: {
      warmupSeconds,
      checkMedians: { stackCheckMs: median(stackCheck), stackCheckMaxMs: Math.max(...stackCheck), inventoryCheckMs: median(inventoryCheck) },
      ...(profile ? { profile } : {}),
    },
    notes: ['Concurrency 4. Nothing changed outside Plumbline, so every check finds no drift.'],
  };
}
