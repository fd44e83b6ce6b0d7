import { setTimeout as sleep } from 'node:timers/promises';
import { FatalWait, waitFor } from '../../testkit/wait.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { stackFiles } from '../lib/fixtures.ts';
import { commandsOf, logSize, readLogSince, stepsOf, type LogEntry } from '../lib/logs.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { median, sum } from '../lib/stats.ts';
import { largeRepo, type LargeRepo } from './large-repo.ts';

export interface PlanLatency {
  /** POST /api/v1/sync sent -> the plan of the revision listed by GET /api/v1/plans?unit=. */
  totalMs: number;
  /** The sync request's round trip: fetch, diff, snapshot, definitions, scheduling. */
  syncMs: number;
  /** The same, as the daemon's `api request` log line measured it. */
  syncServerMs: number;
  /** Sync sent -> the plan run's first step started (the poll schedules the run before it answers). */
  runStartedMs: number;
  steps: Record<string, number>;
  /** terraform init/plan/show of the plan run (daemon debug log, `command finished`). */
  terraformMs: number;
  terraformBySub: Record<string, number>;
  /** The plan step minus terraform: state placement, var file, show -json parsing, normalize, mask, render. */
  providerOtherMs: number;
  /** The plan record written -> seen by the benchmark's polling (20 ms). */
  visibleLagMs: number;
  engineMs: number;
}

/** Time one plan of `unit` at `revision` from a sync, and take the daemon log apart. */
export async function timePlan(daemon: BenchDaemon, unit: string, revision: string): Promise<PlanLatency & { scheduled: string[] }> {
  const offset = logSize(daemon.logFile);
  const t0 = Date.now();
  const answer = await daemon.sync();
  const tSync = Date.now();
  await waitFor(async () => (await daemon.plans(unit)).some((p) => p.revision === revision), {
    what: `a plan of ${unit} at ${revision.slice(0, 8)}`,
    timeoutMs: 120_000,
    intervalMs: 20,
  });
  const t1 = Date.now();
  await sleep(300); // let the log catch up with the record step
  const entries = readLogSince(daemon.logFile, offset);
  const mine = (e: LogEntry) => e.unit === unit && e.revision === revision && !e.planId;
  const steps = Object.fromEntries(stepsOf(entries, mine).map((s) => [s.step, s.ms]));
  const tf = commandsOf(entries, (e) => mine(e) && e.command === 'terraform');
  const terraformMs = sum(tf.map((c) => c.durationMs));
  const terraformBySub: Record<string, number> = {};
  for (const c of tf) terraformBySub[c.sub] = (terraformBySub[c.sub] ?? 0) + c.durationMs;
  const runStart = entries.find((e) => mine(e) && e.msg === 'step started')?.time ?? tSync;
  const recordEnd = entries.find((e) => mine(e) && e.msg === 'step finished' && e.step === 'record')?.time ?? t1;
  const syncLine = entries.find((e) => e.msg === 'api request' && e.route === 'POST /api/v1/sync');
  return {
    scheduled: answer.scheduled,
    totalMs: t1 - t0,
    syncMs: tSync - t0,
    syncServerMs: Number(syncLine?.ms ?? NaN),
    runStartedMs: runStart - t0,
    steps,
    terraformMs,
    terraformBySub,
    providerOtherMs: (steps.plan ?? 0) - terraformMs,
    visibleLagMs: t1 - recordEnd,
    engineMs: t1 - t0 - terraformMs,
  };
}

/**
 * Wait until each unit's plan at `revision` is applied, reading only those
 * units' plans (cheaper for a daemon of 1,000 units than the whole status).
 */
async function waitApplied(daemon: BenchDaemon, units: readonly string[], revision: string): Promise<void> {
  for (const unit of units) {
    await waitFor(
      async () => {
        const plan = (await daemon.plans(unit)).find((p) => p.revision === revision);
        if (plan && ['Failed', 'Rejected', 'Superseded', 'Interrupted'].includes(plan.status)) throw new FatalWait(`plan ${plan.id} is ${plan.status}`);
        return plan?.status === 'Applied';
      },
      { what: `${unit} applied at ${revision.slice(0, 8)}`, timeoutMs: 180_000, intervalMs: 100 },
    );
  }
}

/** Units with a plan (or a failed plan) at `revision`, from the history. */
async function plannedAt(daemon: BenchDaemon, revision: string): Promise<string[]> {
  const events = await daemon.history({ limit: 5000 });
  return [...new Set(events.filter((e) => e.revision === revision && (e.type === 'planned' || e.type === 'plan-failed')).map((e) => e.unit!))].sort();
}

function commitValue(large: LargeRepo, name: string, value: string): string {
  large.values.set(name, value);
  const upstream = large.upstreamOf.get(name);
  return large.repo.commit(stackFiles(name, { value, ...(upstream ? { upstream } : {}) }), `${name}: ${value}`);
}

/**
 * Precision: one commit touching one stack of the large repository. Counts the
 * plans it starts (history events at that commit, after the apply and its
 * dependants settled) and times sync -> plan visible, minus terraform's own
 * time in that plan run (from the daemon's debug log).
 */
export async function precision(ctx: BenchContext): Promise<ScenarioResult> {
  const large = await largeRepo(ctx);
  const { daemon } = large;
  const leafPlans: number[] = [];
  const hubPlans: number[] = [];
  const total: number[] = [];
  const engine: number[] = [];
  const terraform: number[] = [];
  const tfProcesses: number[] = [];
  const samples: PlanLatency[] = [];
  const unexpected: string[] = [];
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    // A different leaf each time, spread over the repository.
    const leaf = large.leaves[(rep * 37 + 5) % large.leaves.length]!;
    const before = await daemon.metrics();
    const revision = commitValue(large, leaf, `p${rep}`);
    const timing = await timePlan(daemon, leaf, revision);
    await waitApplied(daemon, [leaf], revision);
    await sleep(1_000); // anything else it set in motion would have started by now
    const planned = await plannedAt(daemon, revision);
    const after = await daemon.metrics();
    leafPlans.push(planned.length);
    if (planned.length !== 1) unexpected.push(`${leaf}@${revision.slice(0, 8)}: ${planned.join(', ')}`);
    tfProcesses.push((after.processes.terraform ?? 0) - (before.processes.terraform ?? 0));
    total.push(timing.totalMs);
    engine.push(timing.engineMs);
    terraform.push(timing.terraformMs);
    samples.push(timing);

    // A stack with two dependants: its changed output plans them too, after its apply.
    const hub = large.hubs[rep % large.hubs.length]!;
    const hubRevision = commitValue(large, hub.name, `p${rep}`);
    await daemon.sync();
    await waitApplied(daemon, [hub.name, ...hub.dependants], hubRevision);
    await sleep(1_000);
    const hubPlanned = await plannedAt(daemon, hubRevision);
    hubPlans.push(hubPlanned.length);
    if (hubPlanned.length !== 1 + hub.dependants.length) unexpected.push(`${hub.name}@${hubRevision.slice(0, 8)}: ${hubPlanned.join(', ')}`);
    progress(
      `precision ${rep + 1}/${ctx.reps}: ${leaf} ${planned.length} plan(s), visible after ${timing.totalMs} ms (terraform ${timing.terraformMs} ms, engine ${timing.engineMs} ms); ${hub.name}: ${hubPlanned.length} plan(s)`,
    );
  }
  const breakdown = {
    syncRoundTripMs: median(samples.map((s) => s.syncMs)),
    syncServerMs: median(samples.map((s) => s.syncServerMs)),
    runStartedMs: median(samples.map((s) => s.runStartedMs)),
    ...Object.fromEntries(['snapshot', 'workspace', 'inputs', 'plan', 'record', 'decide'].map((k) => [`step.${k}Ms`, median(samples.map((s) => s.steps[k] ?? NaN))])),
    ...Object.fromEntries(['init', 'plan', 'show'].map((k) => [`terraform.${k}Ms`, median(samples.map((s) => s.terraformBySub[k] ?? NaN))])),
    providerOtherMs: median(samples.map((s) => s.providerOtherMs)),
    visibleLagMs: median(samples.map((s) => s.visibleLagMs)),
  };
  return {
    id: 'precision',
    title: `Precision (1 of ${ctx.scale.stacks} stacks)`,
    figures: [
      figure('precision.plans', 'plans started (leaf stack)', 'count', leafPlans, { text: '= 1', test: (v) => v === 1, all: true }),
      figure('precision.plansWithDependants', 'plans started (stack + 2 dependants)', 'count', hubPlans, { text: '= 3', test: (v) => v === 3, all: true }),
      figure('precision.terraformProcesses', 'terraform processes (plan + apply)', 'count', tfProcesses),
      figure('precision.total', 'sync -> plan visible', 'ms', total),
      figure('precision.terraform', '  of which terraform (init, plan, show)', 'ms', terraform),
      figure('precision.engine', '  engine latency (the rest)', 'ms', engine),
    ],
    details: { breakdownMedians: breakdown, samples, unexpected },
    notes: [
      'Terraform time is the sum of `command finished` durationMs of the plan run (daemon debug log), not the history startedAt/finishedAt (which also covers the engine steps).',
    ],
  };
}
