import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import { memoryOf } from '../lib/proc.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { largeRepo } from './large-repo.ts';

const ANSIBLE = ['ansible-playbook', 'ansible-inventory', 'ansible-vault'];

/**
 * Quiet time between the first reconcile and the measured polls: the daemon
 * gives back the memory of a burst of work once it has been quiet for a while
 * (engine/idle-memory.ts, up to 3 s + 10 s), so this measures an idle daemon,
 * not one a few seconds after 1,050 runs.
 */
const SETTLE_MS = 15_000;

/**
 * Idle: the large repository with no new commit. Each repetition reads the
 * metrics, runs `pollsPerRep` polls (POST /api/v1/sync, one after the other),
 * reads the metrics again, and divides the differences by the polls counted.
 */
export async function idle(ctx: BenchContext): Promise<ScenarioResult> {
  const large = await largeRepo(ctx);
  const { daemon } = large;
  const polls = ctx.scale.pollsPerRep;
  const git: number[] = [];
  const terraform: number[] = [];
  const ansible: number[] = [];
  const other: number[] = [];
  const cpu: number[] = [];
  const roundTrip: number[] = [];
  const rss: number[] = [];
  const hwm: number[] = [];
  const heap: number[] = [];
  const pollCounts: number[] = [];
  // One poll first, so the measured ones start from a settled daemon.
  await daemon.sync();
  if (!ctx.smoke) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const before = await daemon.metrics();
    const trips: number[] = [];
    for (let i = 0; i < polls; i += 1) {
      const t0 = performance.now();
      const answer = await daemon.sync();
      trips.push(performance.now() - t0);
      if (answer.scheduled.length > 0) throw new Error(`an idle poll scheduled ${answer.scheduled.join(', ')}`);
    }
    const after = await daemon.metrics();
    const counted = after.polls - before.polls;
    pollCounts.push(counted);
    const delta = (tool: string) => (after.processes[tool] ?? 0) - (before.processes[tool] ?? 0);
    const tools = new Set([...Object.keys(after.processes), ...Object.keys(before.processes)]);
    const otherTools = [...tools].filter((t) => t !== 'git' && t !== 'terraform' && !ANSIBLE.includes(t));
    git.push(delta('git') / counted);
    terraform.push(delta('terraform') / counted);
    ansible.push(ANSIBLE.reduce((s, t) => s + delta(t), 0) / counted);
    other.push(otherTools.reduce((s, t) => s + delta(t), 0) / counted);
    const cpuMicros = after.cpu.userMicros + after.cpu.systemMicros - before.cpu.userMicros - before.cpu.systemMicros;
    cpu.push(cpuMicros / 1000 / counted);
    roundTrip.push(trips.reduce((a, b) => a + b, 0) / trips.length);
    rss.push(after.memory.rssBytes / 2 ** 20);
    heap.push(after.memory.heapUsedBytes / 2 ** 20);
    hwm.push((memoryOf(daemon.pid)?.hwmBytes ?? NaN) / 2 ** 20);
    progress(`idle ${rep + 1}/${ctx.reps}: ${counted} polls, git ${git.at(-1)}/poll, cpu ${cpu.at(-1)!.toFixed(1)} ms/poll, rss ${rss.at(-1)!.toFixed(0)} MiB`);
  }
  const units = `${ctx.scale.stacks} stacks + ${ctx.scale.inventories} inventories`;
  return {
    id: 'idle',
    title: `Idle (${units})`,
    figures: [
      figure('idle.git', 'git processes per poll', 'count', git, { text: '= 1 (fetch)', test: (v) => v === 1, all: true }),
      figure('idle.terraform', 'terraform processes per poll', 'count', terraform, { text: '= 0', test: (v) => v === 0, all: true }),
      figure('idle.ansible', 'ansible processes per poll', 'count', ansible, { text: '= 0', test: (v) => v === 0, all: true }),
      figure('idle.other', 'other processes per poll', 'count', other, { text: '= 0', test: (v) => v === 0, all: true }),
      figure('idle.cpu', 'daemon CPU time per poll', 'cpu-ms', cpu),
      figure('idle.roundtrip', 'sync round trip (API, fetch)', 'ms', roundTrip),
      figure('idle.rss', 'daemon resident memory', 'MiB', rss),
      figure('idle.heap', 'daemon JS heap used', 'MiB', heap),
    ],
    details: {
      pollsPerRepetition: polls,
      pollsCounted: pollCounts,
      peakRssSinceStartMiB: hwm,
      firstReconcile: large.warmup,
    },
    notes: [
      `Polls are POST /api/v1/sync, ${polls} per repetition, one after the other; CPU time includes serving those requests.`,
      `The polls start ${ctx.smoke ? 0 : SETTLE_MS / 1000} s after the first reconcile and one more poll (the daemon gives back a burst's memory once quiet).`,
      `The first reconcile of the ${large.warmup.units} units (not measured as idle) took ${large.warmup.seconds.toFixed(0)} s with concurrency 4.`,
    ],
  };
}
