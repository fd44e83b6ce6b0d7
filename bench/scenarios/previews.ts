import type { PreviewsAnswer } from '../../engine/api/contract.ts';
import { waitFor } from '../../testkit/wait.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { stackFiles } from '../lib/fixtures.ts';
import { commandsOf, logSize, readLogSince } from '../lib/logs.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { largeRepo, PREVIEW_BRANCHES } from './large-repo.ts';

/** Until the preview of `ref` at `revision` has every unit planned; its units. */
async function previewed(daemon: BenchDaemon, ref: string, revision: string, timeoutMs: number): Promise<PreviewsAnswer['previews'][number]> {
  return waitFor(
    async () => {
      const answer = await daemon.api<PreviewsAnswer>(`/api/v1/previews?ref=${encodeURIComponent(ref)}`);
      const preview = answer.previews.find((p) => p.ref === ref && p.revision === revision);
      if (!preview || preview.units.length === 0) return undefined;
      const failed = preview.units.find((u) => u.status === 'Failed');
      if (failed) throw new Error(`the preview of ${failed.name} on ${ref} failed: ${failed.error ?? ''}`);
      return preview.units.every((u) => u.status === 'Preview') ? preview : undefined;
    },
    { what: `the preview of ${ref} at ${revision.slice(0, 8)}`, timeoutMs, intervalMs: 20 },
  );
}

/**
 * Previews: the large repository's daemon previews `refs/heads/feature/*`.
 * Open branches (each changing one stack) are previewed once; then polls
 * with nothing new are counted (processes per poll), and a new branch
 * touching one stack is timed from the sync until its preview is visible,
 * with terraform's own time (from the daemon's log) taken out.
 */
export async function previews(ctx: BenchContext): Promise<ScenarioResult> {
  const large = await largeRepo(ctx);
  const { daemon, repo, leaves } = large;
  const open = Math.min(ctx.smoke ? 5 : 50, leaves.length - ctx.reps);
  progress(`previews: opening ${open} branches, each changing one stack...`);
  const heads: Array<{ ref: string; revision: string }> = [];
  for (let i = 0; i < open; i += 1) {
    const branch = `${PREVIEW_BRANCHES}open-${i}`;
    heads.push({ ref: `refs/heads/${branch}`, revision: repo.pushBranch(branch, stackFiles(leaves[i]!, { value: `open-${i}` })) });
  }
  await daemon.sync();
  for (const { ref, revision } of heads) await previewed(daemon, ref, revision, 30 * 60_000);

  const polls = ctx.scale.pollsPerRep;
  const git: number[] = [];
  const other: number[] = [];
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const before = await daemon.metrics();
    for (let i = 0; i < polls; i += 1) await daemon.sync();
    const after = await daemon.metrics();
    const counted = after.polls - before.polls;
    const delta = (tool: string) => (after.processes[tool] ?? 0) - (before.processes[tool] ?? 0);
    const tools = new Set([...Object.keys(after.processes), ...Object.keys(before.processes)]);
    git.push(delta('git') / counted);
    other.push([...tools].filter((t) => t !== 'git').reduce((s, t) => s + delta(t), 0) / counted);
  }

  const total: number[] = [];
  const terraform: number[] = [];
  const engine: number[] = [];
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const branch = `${PREVIEW_BRANCHES}new-${rep}`;
    const revision = repo.pushBranch(branch, stackFiles(leaves[open + rep]!, { value: `new-${rep}` }));
    const offset = logSize(daemon.logFile);
    const t0 = performance.now();
    await daemon.sync();
    await previewed(daemon, `refs/heads/${branch}`, revision, 10 * 60_000);
    const ms = performance.now() - t0;
    const tf = commandsOf(readLogSince(daemon.logFile, offset), (e) => e.command === 'terraform').reduce((s, c) => s + c.durationMs, 0);
    total.push(ms);
    terraform.push(tf);
    engine.push(ms - tf);
    progress(`previews ${rep + 1}/${ctx.reps}: visible in ${ms.toFixed(0)} ms, terraform ${tf.toFixed(0)} ms, the rest ${(ms - tf).toFixed(0)} ms`);
  }
  return {
    id: 'previews',
    title: `Previews (${ctx.scale.stacks} stacks, ${open} open branches)`,
    figures: [
      figure('previews.idle.git', 'git processes per poll, nothing new', 'count', git, { text: '= 1 (fetch)', test: (v) => v === 1, all: true }),
      figure('previews.idle.other', 'other processes per poll, nothing new', 'count', other, { text: '= 0', test: (v) => v === 0, all: true }),
      figure('previews.new.engine', 'new branch touching one stack: sync -> preview visible, minus terraform', 'ms', engine, { text: '<= 2000 ms', test: (v) => v <= 2000 }),
      figure('previews.new.total', '  the same, terraform included', 'ms', total),
      figure('previews.new.terraform', '  terraform’s own time (init, plan, show)', 'ms', terraform),
    ],
    details: {},
    notes: [
      `Each open branch changes one stack's value; the ${open} previews are planned once before the polls are counted. A poll is POST /api/v1/sync: one fetch carries the watched branch and every preview ref.`,
    ],
  };
}
