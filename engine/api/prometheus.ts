import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ControllerObserver } from '../controller/controller.ts';
import type { HistoryEvent, HistoryEventType, Phase } from '../model.ts';
import type { RunKind, RunRecord, Store } from '../store/types.ts';
import type { MetricsExposition } from './routes.ts';

/**
 * The daemon's metrics in the Prometheus text format (`GET /metrics`).
 *
 * Runs are counted when they end: the controller says when a run starts and
 * ends (its duration), and the history event the run committed says how it
 * ended. What the store holds (units by phase, pending plans, the queue) is
 * counted by SQL at each scrape, never by reading records. Counters start at
 * zero with the process, as Prometheus expects of them.
 */

/** Every phase, so a phase without units reads 0 rather than being absent (alerts need no `absent()`). */
const PHASES = Object.keys({
  Pending: 1,
  Planning: 1,
  AwaitingApproval: 1,
  Applying: 1,
  InSync: 1,
  Failed: 1,
  Stalled: 1,
  Drifted: 1,
  Blocked: 1,
  Orphaned: 1,
} satisfies Record<Phase, 1>) as Phase[];

/** How the event a run commits says it ended. */
const RESULT_OF_EVENT: Partial<Record<HistoryEventType, string>> = {
  planned: 'succeeded',
  'plan-failed': 'failed',
  pruned: 'succeeded',
  applied: 'succeeded',
  remediated: 'succeeded',
  'apply-failed': 'failed',
  interrupted: 'interrupted',
  'drift-detected': 'drifted',
};

/** A run that committed no event of its own: cut off, or a drift check that found what the last one found. */
const RESULT_WITHOUT_EVENT: Record<RunKind, string> = {
  plan: 'cancelled',
  destroy: 'cancelled',
  apply: 'cancelled',
  drift: 'unchanged',
};

/** Runs last from seconds (a drift check with nothing to do) to the better part of an hour (a large apply). */
const DURATION_BUCKETS = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

interface ActiveRun {
  run: RunRecord;
  started: number;
  result?: string;
}

export interface DaemonMetricsOptions {
  store: Pick<Store, 'counts'>;
  /** Processes started per tool (engine/exec.ts). */
  processCounts: ReadonlyMap<string, number>;
  requireToken: boolean;
}

export class DaemonMetrics implements MetricsExposition, ControllerObserver {
  readonly requireToken: boolean;
  private readonly registry = new Registry();
  private readonly store: Pick<Store, 'counts'>;
  private readonly processCounts: ReadonlyMap<string, number>;
  /** The run of each unit in flight here (never two of one unit at once). */
  private readonly active = new Map<string, ActiveRun>();

  private readonly runs: Counter<'kind' | 'unit' | 'result'>;
  private readonly durations: Histogram<'kind' | 'result'>;
  private readonly queueDepth: Gauge;
  private readonly running: Gauge;
  private readonly units: Gauge<'phase'>;
  private readonly pendingPlans: Gauge;
  private readonly driftFound: Counter<'unit'>;
  private readonly fetchFailures: Counter;
  private readonly lastFetch: Gauge;
  private readonly processes: Counter<'tool'>;
  private readonly sandbox: Gauge;
  private readonly requests: Counter<'route' | 'status'>;

  constructor(options: DaemonMetricsOptions) {
    this.store = options.store;
    this.processCounts = options.processCounts;
    this.requireToken = options.requireToken;
    const registers = [this.registry];
    this.runs = new Counter({ name: 'plumbline_runs_total', help: 'Runs ended, by kind (plan, destroy, apply, drift), unit and result.', labelNames: ['kind', 'unit', 'result'], registers });
    // No unit label: a histogram per unit would multiply every bucket by the number of units.
    this.durations = new Histogram({ name: 'plumbline_run_duration_seconds', help: 'How long runs took, by kind and result.', labelNames: ['kind', 'result'], buckets: DURATION_BUCKETS, registers });
    this.queueDepth = new Gauge({ name: 'plumbline_queue_depth', help: 'Runs queued and not yet started.', registers });
    this.running = new Gauge({ name: 'plumbline_runs_running', help: 'Runs in progress (on every daemon sharing the store).', registers });
    this.units = new Gauge({ name: 'plumbline_units', help: 'Units by phase.', labelNames: ['phase'], registers });
    this.pendingPlans = new Gauge({ name: 'plumbline_plans_pending', help: 'Plans waiting for a decision.', registers });
    this.driftFound = new Counter({ name: 'plumbline_drift_detected_total', help: 'Drift found by drift checks, by unit.', labelNames: ['unit'], registers });
    this.fetchFailures = new Counter({ name: 'plumbline_source_fetch_failures_total', help: 'Fetches of the watched repository that failed.', registers });
    this.lastFetch = new Gauge({ name: 'plumbline_source_last_success_timestamp_seconds', help: 'When the watched repository was last fetched successfully (Unix time).', registers });
    this.processes = new Counter({ name: 'plumbline_tool_processes_started_total', help: 'Tool processes started, by tool (terraform, git, ansible-playbook...).', labelNames: ['tool'], registers });
    this.sandbox = new Gauge({ name: 'plumbline_sandbox_enabled', help: 'Whether tool runs are sandboxed (1) or not (0).', registers });
    this.requests = new Counter({ name: 'plumbline_api_requests_total', help: 'API requests answered, by route and HTTP status (401 and 403 included).', labelNames: ['route', 'status'], registers });
    this.sandbox.set(0);
    collectDefaultMetrics({ register: this.registry });
  }

  // What the controller and the store tell

  runStarted(run: RunRecord): void {
    this.active.set(run.unit, { run, started: performance.now() });
  }

  runFinished(run: RunRecord): void {
    const active = this.active.get(run.unit);
    if (active?.run.id !== run.id) return;
    this.active.delete(run.unit);
    const result = active.result ?? RESULT_WITHOUT_EVENT[run.kind];
    this.runs.inc({ kind: run.kind, unit: run.unit, result });
    this.durations.observe({ kind: run.kind, result }, (performance.now() - active.started) / 1000);
  }

  /** Every committed history event (store.onHistory). */
  history(event: HistoryEvent): void {
    if (event.type === 'drift-detected' && event.unit) this.driftFound.inc({ unit: event.unit });
    const active = event.unit ? this.active.get(event.unit) : undefined;
    const result = active && resultOf(active.run.kind, event);
    if (active && result) active.result = result;
  }

  fetched(ok: boolean): void {
    if (ok) this.lastFetch.set(Date.now() / 1000);
    else this.fetchFailures.inc();
  }

  /** Driven by the daemon from its sandbox setting. */
  setSandboxEnabled(enabled: boolean): void {
    this.sandbox.set(enabled ? 1 : 0);
  }

  apiRequest(route: string, status: number): void {
    this.requests.inc({ route, status: String(status) });
  }

  async render(): Promise<{ contentType: string; text: string }> {
    const counts = await this.store.counts();
    for (const phase of PHASES) this.units.set({ phase }, counts.unitsByPhase[phase] ?? 0);
    this.pendingPlans.set(counts.pendingPlans);
    this.queueDepth.set(counts.runs.queued);
    this.running.set(counts.runs.running);
    this.processes.reset();
    for (const [tool, count] of this.processCounts) this.processes.inc({ tool }, count);
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/** The result an event gives the run of its unit, if it is one of the events that end a run of that kind. */
function resultOf(kind: RunKind, event: HistoryEvent): string | undefined {
  if (kind === 'drift') {
    if (event.type === 'drift-detected') return 'drifted';
    // transitions.driftGone and transitions.driftCheckFailed both record drift-checked.
    if (event.type === 'drift-checked') return event.message.startsWith('drift check failed') ? 'failed' : 'in-sync';
    return undefined;
  }
  if (event.type === 'drift-detected' || event.type === 'drift-checked') return undefined;
  return RESULT_OF_EVENT[event.type];
}
