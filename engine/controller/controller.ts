import { hostname } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { readFile, rm } from 'node:fs/promises';
import { auditFields, describeActor } from '../auth/actor.ts';
import { mayDecideOn, requireRole, requireUnits } from '../auth/roles.ts';
import type { Actor } from '../auth/types.ts';
import type { ClusterAnswer, DriftAnswer, EngineFacade, MetricsAnswer, PlanDetail, PreviewsAnswer, StatusAnswer, SyncAnswer, UnitReads } from '../api/contract.ts';
import { processCounts } from '../exec.ts';
import { DEFAULT_LEASE_TTL_MS, type DaemonConfig } from '../config/types.ts';
import { type DefinitionsCache, loadDefinitions, type Reuse } from '../definitions/load.ts';
import { builtinProviders } from '../providers.ts';
import type { DriftPolicy, UnitDefinition } from '../definitions/types.ts';
import { ConflictError, NotFoundError, PlumblineError, asPlumblineError, formatProblem, isError, type Problem } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ChangeSet, HistoryEvent, PlanRecord, SourceStatus } from '../model.ts';
import { Mutex } from '../mutex.ts';
import { runPaths, type StatePaths } from '../paths.ts';
import type { Provider } from '../provider.ts';
import { sandboxStatus } from '../sandbox/launch.ts';
import { sandboxSettings } from '../sandbox/run-sandbox.ts';
import { ABSENT_MODE, redactUrl, SYMLINK_MODE, type GitSource } from '../source/git-source.ts';
import { CommitVerifier, describeUntrusted } from '../source/verify.ts';
import type { RunRecord, Store, StoredPlan, StoreTx } from '../store/types.ts';
import { topologicalOrder } from '../definitions/graph.ts';
import { providerProblems } from '../definitions/provider-checks.ts';
import { covers, readsOf, touchedPath } from '../definitions/reads.ts';
import { mapLimit } from '../concurrency.ts';
import { changeSetId, describeChangeSet, type ChangeSetDetail } from './change-sets.ts';
import { dependantsOf, describeReadiness, downstreamOf } from './dependencies.ts';
import { setLongTimeout, type LongTimer } from '../timers.ts';
import { runApplyJob } from './apply-run.ts';
import { removePrunedUnitFolders } from './unit-folders.ts';
import { applyRetention, collectGarbage } from './gc.ts';
import { retentionCutoffs } from '../store/open.ts';
import { runDriftJob } from './drift-run.ts';
import { DriftScheduler } from './drift-scheduler.ts';
import { runPlanJob } from './plan-run.ts';
import { importOutputFile, putOutputs } from './inputs.ts';
import { newRun, PLANNING_KINDS } from './runs.ts';
import type { Runtime } from './runtime.ts';
import { Scheduler } from './scheduler.ts';
import { Membership } from './cluster.ts';
import * as t from './transitions.ts';
import { rememberUnitFolders } from '../workspace.ts';
import { PreviewManager } from '../previews/manager.ts';
import type { PreviewListener } from '../previews/types.ts';

export interface ControllerOptions {
  config: DaemonConfig;
  store: Store;
  source: GitSource;
  providers: Map<string, Provider>;
  paths: StatePaths;
  log: Logger;
  /** This worker's name in the run queue; the host name by default. */
  member?: string;
  /** Told of fetches and runs (the metrics). */
  observer?: ControllerObserver;
  /** Told of every change of a merge-request preview (the forge reporting); none by default. */
  previewListener?: PreviewListener;
}

/** What the daemon's metrics hear from the controller, beside the history events. */
export interface ControllerObserver {
  fetched(ok: boolean): void;
  runStarted(run: RunRecord): void;
  runFinished(run: RunRecord): void;
}

/** How long a member's claims hold without a heartbeat (cluster.leaseTTL). */
/** Retention runs at most this often. */
const RETENTION_EVERY_MS = 60 * 60_000;
/**
 * Garbage collection waits for a quiet moment (removing a snapshot competes
 * with the new commit's plans for the disk); a daemon that is never quiet
 * still collects after this many reconciled commits.
 */
const GC_AFTER_BUSY_COMMITS = 8;
/** Definitions of older commits kept at hand (removed units' destroys, recovery). */
const DEFINITION_CACHE_SIZE = 4;

/**
 * The reconcile loop. A poll fetches the source; a new commit queues a plan
 * of each unit that reads a path it changed, in the same transaction that
 * records the commit as reconciled; the scheduler runs the queue, and each
 * run ends in one transition. The API reads the store; the controller holds
 * only the current definitions and the timers.
 */
export class Controller implements EngineFacade, Runtime {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly source: GitSource;
  readonly paths: StatePaths;
  readonly log: Logger;
  readonly activeRuns = new Set<string>();
  private readonly providers: Map<string, Provider>;
  private readonly scheduler: Scheduler;
  private readonly pollLock = new Mutex();
  /**
   * Settled once `start()` has run. The API answers while the daemon starts;
   * a sync asked meanwhile waits for it, so it never polls beside recovery
   * (which reads the store's head, fetches into a new mirror and cleans the
   * state folder on the assumption that nothing runs yet).
   */
  private markStarted!: () => void;
  private readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));
  private definitions = new Map<string, UnitDefinition>();
  private readonly olderDefinitions = new Map<string, Promise<UnitDefinition[]>>();
  private readonly reviewTimers = new Map<string, LongTimer>();
  private pollTimer: LongTimer | undefined;
  private readonly driftTimers: DriftScheduler;
  /** source.verify; undefined when off. */
  private readonly verifier: CommitVerifier | undefined;
  private stopping = false;
  private sourceStatus: SourceStatus;
  readonly member: string;
  private readonly membership: Membership;
  private unsubscribe: (() => Promise<void>) | undefined;
  /** The commit the definitions were read at. */
  private definitionsAt: string | undefined;
  /** The last reading of the watched branch's definitions: the next commit's reads again only what changed. */
  private definitionsCache: { revision: string; cache: DefinitionsCache } | undefined;
  private lastRetention = 0;
  /** Commits reconciled since the last garbage collection (0: nothing to collect). */
  private commitsSinceGc = 0;
  /** The housekeeping of a quiet moment under way (garbage collection, the spare snapshot copy). */
  private housekeeping: Promise<void> | undefined;
  /** This process has fetched the source at least once (readiness). */
  private fetchedHere = false;
  private readonly observer: ControllerObserver | undefined;
  /** source.previews; undefined when off. */
  private readonly previews: PreviewManager | undefined;

  constructor(options: ControllerOptions) {
    this.config = options.config;
    this.store = options.store;
    this.source = options.source;
    this.paths = options.paths;
    this.log = options.log;
    this.providers = options.providers;
    this.member = options.member ?? options.config.cluster?.name ?? hostname();
    this.membership = new Membership({
      store: options.store,
      log: options.log,
      name: this.member,
      concurrency: options.config.concurrency,
      leaseTtlMs: options.config.cluster?.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      onLeadership: (leader) => this.lead(leader),
      runningHere: () => this.scheduler.runningIds(),
    });
    this.observer = options.observer;
    const previews = options.config.source.previews;
    if (previews) {
      this.previews = new PreviewManager({ rt: this, settings: previews, listener: options.previewListener, mainDefinitions: () => this.definitions });
    }
    this.scheduler = new Scheduler({
      store: options.store,
      log: options.log,
      concurrency: options.config.concurrency,
      member: this.member,
      definition: (unit) => this.definitions.get(unit),
      leaseUntil: () => this.membership.leaseUntil(),
      beforePump: () => this.refreshDefinitions(),
      claiming: async (tx, run) => {
        // A plan of a unit defined here starts with its claim: one transaction fewer per run.
        const unit = run.kind === 'plan' ? this.definitions.get(run.unit) : undefined;
        if (unit) await t.planStarted(tx, unit, run.revision, false);
        return unit;
      },
      execute: async (run, signal, startedAs) => {
        // A plan whose policy approved it hands its slot over to its apply.
        for (let current: RunRecord | undefined = run; current; ) {
          const ran: RunRecord = current;
          this.observer?.runStarted(ran);
          try {
            current = await this.execute(ran, signal, ran === run ? startedAs : undefined);
          } finally {
            this.observer?.runFinished(ran);
          }
          if (current) this.scheduler.handOver(ran, current);
        }
      },
      waiting: (run, ready) => {
        const def = this.definitions.get(run.unit);
        if (!def) return Promise.resolve();
        return this.commit((tx) => t.waitingForDependencies(tx, def, run.revision, ready.blockedBy.length > 0, describeReadiness(ready)));
      },
      quiet: () => this.whenQuiet(),
    });
    this.driftTimers = new DriftScheduler({
      policyOf: (unit) => this.driftPolicy(unit),
      check: async (unit) => {
        const why = await this.driftBlocker(unit);
        if (why) this.log.debug({ unit, why }, 'drift check skipped');
        else await this.queueDrift(unit);
      },
      log: this.log,
    });
    const verify = options.config.source.verify;
    if (verify && verify.mode !== 'off') {
      this.verifier = new CommitVerifier({ settings: { ...verify, mode: verify.mode }, source: options.source, dir: dirname(options.paths.mirror), log: options.log });
    }
    this.sourceStatus = {
      url: redactUrl(options.config.source.url),
      branch: options.config.source.branch,
      phase: 'Pending',
      reason: 'NotFetched',
      message: 'the source has not been fetched yet',
      lastFetchedRevision: null,
      lastReconciledRevision: null,
      lastFetchAt: null,
      fetchCount: 0,
    };
  }

  // Runtime, for the runs

  provider(kind: string): Provider {
    const provider = this.providers.get(kind);
    if (!provider) throw new PlumblineError('E_NO_PROVIDER', `no provider handles kind ${kind}`, { retry: 'stalled', hint: 'the kinds are terraform, cdktf and ansible; check the definition, or the Plumbline version on this host' });
    return provider;
  }

  definition(unit: string): UnitDefinition | undefined {
    return this.definitions.get(unit);
  }

  async definitionAt(unit: string, revision: string): Promise<UnitDefinition | undefined> {
    const current = this.definitions.get(unit);
    if (current) return current;
    // A commit another member reconciled: fetched here when this mirror lacks it.
    await this.source.ensureCommit(revision);
    if (!(await this.source.hasCommit(revision))) return undefined;
    let loading = this.olderDefinitions.get(revision);
    if (!loading) {
      loading = this.loadAt(revision).then((r) => r.units);
      loading.catch(() => this.olderDefinitions.delete(revision));
      this.olderDefinitions.set(revision, loading);
      if (this.olderDefinitions.size > DEFINITION_CACHE_SIZE) this.olderDefinitions.delete(this.olderDefinitions.keys().next().value!);
    }
    return (await loading).find((u) => u.name === unit);
  }

  dependantsOf(unit: string): UnitDefinition[] {
    return dependantsOf(unit, this.definitions.values());
  }

  async commit<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const result = await this.store.write(fn);
    this.scheduler.wake();
    return result;
  }

  async commitRun<T>(run: RunRecord, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.commit(async (tx) => {
      const current = (await tx.listRuns({ unit: run.unit })).find((r) => r.id === run.id);
      if (!current || current.state !== 'running' || current.claimedBy !== this.member || current.fence !== run.fence) {
        throw new PlumblineError('E_FENCED', `the ${run.kind} run of ${run.unit} is no longer this member's (${this.member}): another member took it over`, {
          retry: 'stalled',
          hint: 'nothing to do: the member that holds the run now records its end',
        });
      }
      return fn(tx);
    });
  }

  leaseUntil(): string {
    return this.membership.leaseUntil();
  }

  isStopping(): boolean {
    return this.stopping;
  }

  async newerPlanQueued(unit: string, after: { createdAt: string }): Promise<boolean> {
    return (await this.store.listRuns({ unit })).some((r) => (r.kind === 'plan' || r.kind === 'destroy') && r.createdAt > after.createdAt);
  }

  headChangeSet(): string | undefined {
    const head = this.sourceStatus.lastReconciledRevision;
    return head ? changeSetId(head) : undefined;
  }

  armReviewWindow(plan: StoredPlan): void {
    if (!plan.applyAt || this.stopping) return;
    this.reviewTimers.get(plan.id)?.clear();
    const delay = Math.max(0, Date.parse(plan.applyAt) - Date.now());
    const timer = setLongTimeout(() => {
      this.reviewTimers.delete(plan.id);
      void this.approvePlan(plan.id, 'policy:applyAfter').catch((error) => this.log.debug({ err: error, planId: plan.id }, 'review window closed without apply'));
    }, delay);
    this.reviewTimers.set(plan.id, timer);
  }

  /** One run; a plan returns the apply it claimed to run next in its slot. `startedAs`: its start was recorded with its claim. */
  private async execute(run: RunRecord, signal: AbortSignal, startedAs?: UnitDefinition): Promise<RunRecord | undefined> {
    switch (run.kind) {
      case 'plan':
      case 'destroy':
        return runPlanJob(this, run, signal, startedAs);
      case 'apply':
        await runApplyJob(this, run);
        return undefined;
      case 'drift':
        await runDriftJob(this, run, this.driftPolicy(run.unit) ?? { intervalMs: null, action: 'report' }, signal);
        return undefined;
    }
  }

  // Drift

  private driftPolicy(unit: string): DriftPolicy | undefined {
    return this.definitions.get(unit)?.drift ?? this.config.defaults.drift;
  }

  /**
   * Why a drift check of `unit` cannot run now, or undefined if it can: only a
   * settled unit (applied, nothing queued or running) is checked.
   */
  private async driftBlocker(unit: string): Promise<string | undefined> {
    const status = await this.store.getUnit(unit);
    if (!this.definitions.has(unit) || !status) return 'unknown unit';
    if (status.phase !== 'InSync' && status.phase !== 'Drifted') return `it is ${status.phase}`;
    if (!status.lastAppliedRevision) return 'it was never applied';
    const runs = await this.store.listRuns({ unit });
    if (runs.some((r) => r.kind !== 'drift')) return 'a run is in progress';
    if (runs.length > 0) return 'a drift check is already in progress';
    return undefined;
  }

  private async queueDrift(unit: string): Promise<void> {
    const status = await this.store.getUnit(unit);
    if (!status?.lastAppliedRevision) return;
    await this.commit((tx) => t.enqueue(tx, newRun('drift', unit, status.lastAppliedRevision!)));
  }

  /**
   * `plumbline drift [NAME]`: check now, whatever the interval (and even with
   * checks off). Without a unit, every unit the actor may decide on. The
   * checks are queued with the event that records who asked, in one write.
   */
  async drift(options: { unit?: string }, actor: Actor): Promise<DriftAnswer> {
    if (options.unit && !this.definitions.has(options.unit)) {
      throw new NotFoundError('E_UNIT_NOT_FOUND', `no unit ${options.unit}`, { hint: 'list units with: plumbline status' });
    }
    if (options.unit) requireUnits(actor, [options.unit], 'check drift');
    const names = options.unit ? [options.unit] : [...this.definitions.keys()].filter((name) => mayDecideOn(actor, name));
    const runs: RunRecord[] = [];
    const skipped: Array<{ unit: string; why: string }> = [];
    for (const unit of names) {
      const why = await this.driftBlocker(unit);
      const applied = why ? undefined : (await this.store.getUnit(unit))?.lastAppliedRevision;
      if (applied) runs.push(newRun('drift', unit, applied));
      else skipped.push({ unit, why: why ?? 'it was never applied' });
    }
    const scheduled = runs.map((r) => r.unit);
    await this.commit(async (tx) => {
      for (const run of runs) await t.enqueue(tx, run);
      const started = scheduled.length > 0 ? `checks started on ${describeList(scheduled)}` : 'no check started';
      await t.record(tx, { type: 'drift-requested', unit: options.unit ?? null, revision: null, planId: null, message: `drift check requested by ${describeActor(actor)}: ${started}`, ...auditFields(actor) });
    });
    return { scheduled, skipped };
  }

  // Lifecycle

  /**
   * Take up what the previous process left: runs it had claimed go back to
   * the queue; an apply it had started is Interrupted and its unit planned
   * again, never applied blindly; review windows are armed again.
   */
  async recover(): Promise<void> {
    this.sourceStatus = (await this.store.getSource()) ?? this.sourceStatus;
    const revision = this.sourceStatus.lastReconciledRevision;
    let defined: Set<string> | undefined;
    // A member that never fetched (or whose mirror lost the commit) fetches it first.
    if (revision) await this.source.ensureCommit(revision).catch((error) => this.log.warn({ err: asPlumblineError(error) }, 'could not fetch the last reconciled commit yet'));
    if (revision && (await this.source.hasCommit(revision))) {
      const { units, problems } = await this.loadAt(revision, { remember: true });
      this.definitions = new Map(units.map((u) => [u.name, u]));
      defined = new Set([...units.map((u) => u.name), ...problems.flatMap((p) => (p.unit ? [p.unit] : []))]);
    }
    // Runs cut off before they recorded a plan left folders behind; nothing runs yet.
    await this.collectGarbage();
    await this.importOutputFiles();
    await this.store.write(async (tx) => {
      // This member's own runs (a restart under the same name); other members' lapse and are taken up by the leader.
      for (const run of await tx.listRuns({ state: 'running' })) {
        if (run.claimedBy !== undefined && run.claimedBy !== this.member) continue;
        if (run.kind === 'apply') {
          const plan = run.planId ? await tx.getPlan(run.planId) : undefined;
          if (plan?.status === 'Applying') {
            await t.interrupted(tx, plan, 'apply cut off by a daemon stop');
            await tx.deleteRun(run.id);
            await t.enqueue(tx, newRun('plan', plan.unit, plan.revision, { reason: 'its apply was interrupted', ...(plan.changeSet ? { changeSet: plan.changeSet } : {}) }), { replaces: ['plan', 'drift'] });
            continue;
          }
        } else {
          await t.record(tx, { type: 'interrupted', unit: run.unit, revision: run.revision, planId: null, message: 'run cut off by a daemon stop; it runs again' });
        }
        const { claimedBy: _claimedBy, leaseUntil: _leaseUntil, ...released } = run;
        await tx.putRun({ ...released, state: 'queued' });
      }
      // An apply started with no run left to finish it (belt and braces).
      const applying = new Set((await tx.listRuns({ state: 'running' })).flatMap((r) => (r.planId ? [r.planId] : [])));
      for (const plan of await tx.listPlans({ status: ['Applying'] })) {
        if (applying.has(plan.id)) continue;
        await t.interrupted(tx, plan, 'apply cut off by a daemon stop');
        await t.enqueue(tx, newRun('plan', plan.unit, plan.revision, { reason: 'its apply was interrupted' }), { replaces: ['plan', 'drift'] });
      }
    });
    if (defined) await this.recoverRemoved(defined);
    if (revision && this.definitions.size > 0) await this.planUnrecorded(revision);
    if (defined) this.definitionsAt = revision ?? undefined;
  }

  /** An older version kept each unit's outputs in `units/<unit>/outputs.json`: they move into the store once. */
  private async importOutputFiles(): Promise<void> {
    for (const unit of await this.store.listUnits()) {
      const file = this.paths.outputs(unit.name);
      const outputs = (await this.store.getOutputs(unit.name)) ? undefined : await importOutputFile(file);
      if (!outputs) continue;
      await this.store.write((tx) => putOutputs(tx, unit.name, outputs));
      await rm(file, { force: true });
      this.log.info({ unit: unit.name }, 'outputs moved from their file into the store');
    }
  }

  /**
   * A defined unit without a record (a record of an older store that did not
   * parse, a crash of a very old version) is planned again at the head.
   */
  private async planUnrecorded(revision: string): Promise<void> {
    const recorded = new Set((await this.store.listUnits()).map((u) => u.name));
    const queued = new Set((await this.store.listRuns()).map((r) => r.unit));
    const missing = [...this.definitions.values()].filter((u) => !recorded.has(u.name) && !queued.has(u.name));
    if (missing.length === 0) return;
    this.log.warn({ units: missing.map((u) => u.name) }, 'units without a record are planned again');
    await this.commit(async (tx) => {
      for (const unit of missing) await this.queuePlan(tx, unit, revision, { reason: 'its record was lost' });
    });
  }

  /** Units whose definition had left the repository while a removal was under way. */
  private async recoverRemoved(defined: ReadonlySet<string>): Promise<void> {
    const runs = await this.store.listRuns();
    for (const unit of await this.store.listUnits()) {
      if (defined.has(unit.name) || unit.phase === 'Orphaned') continue;
      if (runs.some((r) => r.unit === unit.name)) continue;
      if ((await this.store.listPlans({ unit: unit.name, purpose: 'destroy', status: ['Pending'] })).length > 0) continue;
      const def = unit.lastAppliedRevision ? await this.definitionAt(unit.name, unit.lastAppliedRevision) : undefined;
      const outcome = await this.commit((tx) => this.retire(tx, unit.name, def, unit.lastAppliedRevision));
      if (outcome === 'forgotten') await this.removeForgottenFolders([unit.name]);
    }
  }

  /**
   * Drop snapshots and run folders nothing refers to any more, and (at most
   * hourly) plans and events past their retention. Never on an idle poll.
   */
  private async collectGarbage(): Promise<void> {
    this.commitsSinceGc = 0;
    const keep = {
      revisions: [this.sourceStatus.lastReconciledRevision, this.source.spareBase(), ...(this.previews?.revisions() ?? [])],
      runs: this.activeRuns,
      snapshots: this.source,
    };
    try {
      if (Date.now() - this.lastRetention > RETENTION_EVERY_MS) {
        this.lastRetention = Date.now();
        await applyRetention(this.store, this.paths, retentionCutoffs(this.config.store), this.log);
      }
      await collectGarbage(this.store, this.paths, keep, this.log);
    } catch (error) {
      this.log.warn({ err: asPlumblineError(error) }, 'state directory cleanup failed');
    }
  }

  /**
   * Nothing runs here: what the last commits left to do off the critical path
   * of a sync, one thing at a time. Garbage collection and the mirror's
   * upkeep (under the poll's lock: never beside a fetch, or a reconcile whose
   * new snapshot nothing refers to yet), then the spare copy of the head's
   * snapshot that the next commit's snapshot is made from.
   */
  private whenQuiet(): void {
    if (this.stopping || this.housekeeping) return;
    const head = this.sourceStatus.lastReconciledRevision;
    const spareDue = head !== null && this.source.spareBase() !== head;
    if (this.commitsSinceGc === 0 && !spareDue) return;
    this.housekeeping = (async () => {
      if (this.commitsSinceGc > 0) {
        await this.pollLock.run(async () => {
          if (this.stopping) return;
          await this.collectGarbage();
          // The mirror's packing, which the fetches of the sync path leave out.
          await this.source.maintain();
        });
      }
      // The head may have moved meanwhile: the spare is of the newest one, made while nothing runs.
      const now = this.sourceStatus.lastReconciledRevision;
      if (now && !this.stopping && this.scheduler.runningUnits().size === 0) await this.source.prepareSpare(now);
    })()
      .catch((error: unknown) => this.log.warn({ err: asPlumblineError(error) }, 'housekeeping failed'))
      .finally(() => (this.housekeeping = undefined));
  }

  /**
   * Join the members sharing the store (alone on SQLite): heartbeats, the
   * queue woken by other members' runs, and, while this member leads, the
   * poll, drift checks and review windows.
   */
  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe(() => this.scheduler.wake());
    await this.membership.start();
    this.scheduler.wake();
    this.markStarted();
  }

  /** This member leads (it polls and schedules) or no longer does. */
  private lead(leader: boolean): void {
    if (this.stopping) return;
    if (!leader) {
      this.pollTimer?.clear();
      this.pollTimer = undefined;
      this.driftTimers.retain(new Set());
      for (const timer of this.reviewTimers.values()) timer.clear();
      this.reviewTimers.clear();
      return;
    }
    void this.takeOver().catch((error) => this.log.error({ err: asPlumblineError(error) }, 'taking the lead failed'));
  }

  /** What a new leader does: catch up with the store, arm the timers, poll now. */
  private async takeOver(): Promise<void> {
    await this.refreshDefinitions();
    this.driftTimers.arm(this.definitions.keys());
    for (const plan of await this.store.listPlans({ status: ['Pending'] })) if (plan.applyAt) this.armReviewWindow(plan);
    const tick = async () => {
      if (this.stopping || !this.membership.isLeader()) return;
      await this.poll({ allowRewrite: false }).catch((error) => this.log.warn({ err: asPlumblineError(error) }, 'poll failed'));
      if (this.stopping || !this.membership.isLeader()) return;
      const jitter = 0.9 + Math.random() * 0.2;
      this.pollTimer = setLongTimeout(() => void tick(), this.config.source.intervalMs * jitter);
    };
    void tick();
  }

  /**
   * The definitions at the commit the leader last reconciled: a member that
   * does not poll reads them when the store says the head moved, fetching the
   * commit if its own mirror lacks it.
   */
  private async refreshDefinitions(): Promise<void> {
    const source = await this.store.getSource();
    if (source) this.sourceStatus = { ...this.sourceStatus, ...source, fetchCount: this.sourceStatus.fetchCount };
    const head = source?.lastReconciledRevision;
    if (!head || head === this.definitionsAt) return;
    await this.source.ensureCommit(head);
    const { units } = await this.loadAt(head, { remember: true });
    this.definitions = new Map(units.map((u) => [u.name, u]));
    this.definitionsAt = head;
  }

  /** Stop polling, cancel plans, let running applies finish, hand the lead over. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pollTimer?.clear();
    for (const timer of this.reviewTimers.values()) timer.clear();
    this.driftTimers.stop();
    this.previews?.stop();
    await this.pollLock.run(async () => undefined);
    await this.housekeeping;
    await this.scheduler.stop();
    await this.unsubscribe?.();
    await this.membership.stop();
  }

  // Polling

  /** Poll at once (a forge's webhook says something was pushed). */
  async pollNow(): Promise<SyncAnswer> {
    await this.started;
    return this.poll({ allowRewrite: false });
  }

  /**
   * One fetch brings the watched branch and the previewed refs: the branch is
   * reconciled, then the previews follow the heads (nothing more when nothing moved).
   */
  async poll(options: { allowRewrite: boolean }): Promise<SyncAnswer> {
    return this.pollLock.run(async () => {
      const answer = await this.pollSource(options);
      await this.syncPreviews();
      return answer;
    });
  }

  private async syncPreviews(): Promise<void> {
    const mainHead = this.sourceStatus.lastReconciledRevision;
    if (!this.previews || !mainHead || this.stopping) return;
    await this.previews.sync(await this.source.previewHeads(), mainHead);
  }

  /** `plumbline previews [REF]`: the previews of open branches and merge requests. */
  async listPreviews(ref?: string): Promise<PreviewsAnswer> {
    return { previews: this.previews?.list(ref) ?? [] };
  }

  private async pollSource(options: { allowRewrite: boolean }): Promise<SyncAnswer> {
    {
      const started = performance.now();
      // A member that does not lead (a sync asked of its API) starts from what
      // the leader reconciled, not from its own view, which may be behind.
      if (!this.membership.isLeader()) await this.refreshDefinitions();
      let head: string;
      try {
        head = await this.source.fetch();
      } catch (error) {
        this.observer?.fetched(false);
        const typed = asPlumblineError(error);
        await this.putSource({ message: `fetch failed: ${typed.message}`, reason: 'FetchFailed' });
        throw typed;
      }
      this.observer?.fetched(true);
      this.fetchedHere = true;
      this.sourceStatus.fetchCount += 1;
      this.sourceStatus.lastFetchAt = new Date().toISOString();
      const previous = this.sourceStatus.lastReconciledRevision;
      if (this.sourceStatus.phase === 'Stalled' && this.sourceStatus.lastFetchedRevision === head && !options.allowRewrite && !(await this.recheckStalledHead())) {
        return { revision: head, scheduled: [] };
      }
      if (head === previous && this.sourceStatus.phase === 'Ready') {
        return { revision: head, scheduled: [] };
      }
      // What changed since the previous commit (the new snapshot and the units
      // to plan need it) is asked for alongside the ancestry check: the two
      // git processes run at once, and the diff is wasted only on a rewrite.
      if (previous !== null && head !== previous) this.source.changes(previous, head).catch(() => undefined);
      // Whether head descends from the previous commit, and whether the mirror still holds it (a force-push can drop it).
      const lineage = previous !== null && head !== previous ? await this.source.lineage(previous, head) : undefined;
      const previousKnown = previous !== null && lineage !== 'unknown';
      if (previous && head !== previous) {
        const fastForward = lineage === 'descends';
        if (!fastForward && !options.allowRewrite) {
          const message = `${head.slice(0, 8)} does not descend from ${previous.slice(0, 8)} (force-push or history rewrite); nothing is applied until an operator runs: plumbline sync --allow-rewrite`;
          const announce = this.sourceStatus.phase !== 'Stalled' || this.sourceStatus.lastFetchedRevision !== head;
          if (announce) this.log.warn({ head, previous }, 'history rewritten: source stalled');
          await this.putSource({ phase: 'Stalled', reason: 'HistoryRewritten', message, lastFetchedRevision: head }, announce ? { type: 'source-stalled', unit: null, revision: head, planId: null, message } : undefined);
          return { revision: head, scheduled: [] };
        }
      }
      if (this.verifier && head !== previous && !(await this.trusted(head, previousKnown ? previous : null))) {
        return { revision: head, scheduled: [] };
      }
      const fetchedMs = performance.now() - started;
      const scheduled = await this.reconcileRevision(head, previous, previousKnown);
      const reconciledMs = performance.now() - started;
      // Collected when the daemon is quiet, or now when it has not been for a while.
      this.commitsSinceGc += 1;
      if (this.commitsSinceGc >= GC_AFTER_BUSY_COMMITS) await this.collectGarbage();
      else if (scheduled.length === 0) this.scheduler.wake();
      this.log.debug(
        { head, scheduled: scheduled.length, fetchMs: Math.round(fetchedMs), reconcileMs: Math.round(reconciledMs - fetchedMs), totalMs: Math.round(performance.now() - started) },
        'poll reconciled a new commit',
      );
      return { revision: head, scheduled };
    }
  }

  /**
   * source.verify, before anything of a new head is read: false when the head
   * (or, with allCommits, a commit since `since`) is not signed by a trusted
   * key. The source is then Stalled, naming each commit and its signer, with
   * one history event per head. A check that could not be made throws
   * (transient): the next poll checks again.
   */
  private async trusted(head: string, since: string | null): Promise<boolean> {
    let untrusted;
    try {
      untrusted = await this.verifier!.untrusted(head, since);
    } catch (error) {
      const typed = asPlumblineError(error);
      await this.putSource({ message: `signature check failed: ${typed.message}`, reason: 'VerificationFailed' });
      throw typed;
    }
    if (untrusted.length === 0) return true;
    const message = describeUntrusted(untrusted, { allCommits: this.verifier!.allCommits, since });
    const { phase, reason, lastFetchedRevision } = this.sourceStatus;
    const announce = phase !== 'Stalled' || reason !== 'UntrustedCommit' || lastFetchedRevision !== head;
    if (announce) this.log.warn({ head, untrusted }, 'untrusted commit: source stalled');
    await this.putSource({ phase: 'Stalled', reason: 'UntrustedCommit', message, lastFetchedRevision: head }, announce ? { type: 'source-stalled', unit: null, revision: head, planId: null, message } : undefined);
    return false;
  }

  /**
   * A stalled head is checked again when its check failed, or when it was
   * untrusted and the trusted keys changed since (one file read, no process).
   */
  private async recheckStalledHead(): Promise<boolean> {
    if (!this.verifier) return false;
    const { reason } = this.sourceStatus;
    return reason === 'VerificationFailed' || (reason === 'UntrustedCommit' && (await this.verifier.trustChanged()));
  }

  /**
   * Everything a new commit sets in motion, written in one transaction with
   * the commit recorded as reconciled: the problems of invalid units, what
   * each touched unit reads, removed units, the change set and a plan run of
   * each touched unit. A crash before it commits loses nothing (the next poll
   * reconciles the same commit); after, every run is in the queue.
   */
  private async reconcileRevision(head: string, previous: string | null, previousKnown: boolean): Promise<string[]> {
    const lap = laps();
    // The new snapshot is made from the previous one's when the mirror still holds it (gc keeps it: it is the last reconciled).
    const { units, problems, snapshotMs, reread } = await this.loadAt(head, { remember: true, base: previousKnown ? previous : null });
    const definitionsMs = lap();
    const loaderInvalid = new Set(problems.filter(isError).map((p) => p.unit ?? ''));
    const before = this.definitions;
    // What every unit reads, in one query: a thousand units are a thousand lookups otherwise.
    const storedReads = new Map((await this.store.listReads()).map((r) => [r.unit, r]));
    const valid = units.filter((u) => !loaderInvalid.has(u.name));

    let targets: UnitDefinition[];
    if (previous === head) {
      // The same commit again (a source recovering from Stalled): only units never planned.
      const known = new Set((await this.store.listUnits()).map((u) => u.name));
      targets = valid.filter((u) => !known.has(u.name));
    } else if (!previous || !previousKnown) {
      targets = valid;
    } else {
      targets = await this.touchedBy(await this.source.changedPaths(previous, head), valid, before, previous, storedReads);
    }
    // The providers' own static checks (undeclared variables, module sources
    // leaving the repository), on what this commit plans: a unit they refuse is
    // Stalled with its problems, never planned.
    const targetsMs = lap();
    const snapshot = await this.source.snapshot(head);
    const checked = await mapLimit(targets, 16, (unit) => providerProblems(unit, snapshot, this.providers.get(unit.kind), { processes: false }));
    const byUnit = problemsByUnit(units, [...problems, ...checked.flat()]);
    targets = targets.filter((u) => !byUnit.has(u.name));
    const definitions = new Map(units.filter((u) => !byUnit.has(u.name)).map((u) => [u.name, u]));
    // What a unit reads changes only with what it reads: only the targets (and units never read) are read again.
    const stale = [];
    const targeted = new Set(targets);
    for (const unit of definitions.values()) if (targeted.has(unit) || !storedReads.has(unit.name)) stale.push(unit);
    const reads = await mapLimit(stale, 16, (unit) => readsOf(unit, head, snapshot, this.providers.get(unit.kind), this.log));
    const readsMs = lap();
    const present = new Set(units.map((u) => u.name));
    const removed = [...before.keys()].filter((name) => !present.has(name) && !byUnit.has(name));
    const removedDefs = new Map(await Promise.all(removed.map(async (name) => [name, await this.lastAppliedDefinition(name, before.get(name))] as const)));

    // Upstream first, so a dependant sees its dependencies in motion and waits.
    const ordered = topologicalOrder(targets);
    // Units the commit forgets: their folders go once that is written (a retried transaction starts the list again).
    const forgotten: string[] = [];
    const raced = await this.commit(async (tx) => {
      forgotten.length = 0;
      // Another member reconciled meanwhile (a sync asked of a member that
      // does not lead): its work stands, nothing of this is written.
      if (((await tx.getSource())?.lastReconciledRevision ?? null) !== previous) return true;
      for (const [name, list] of byUnit) {
        const def = units.find((u) => u.name === name);
        await t.definitionInvalid(tx, { name, kind: def?.kind ?? 'unknown', path: def?.path ?? list[0]!.file.split('/').slice(0, -1).join('/') }, head, list.map(formatProblem).join('\n'));
      }
      for (const r of reads) await tx.putReads(r);
      for (const name of removed) {
        if ((await this.retire(tx, name, removedDefs.get(name), (await tx.getUnit(name))?.lastAppliedRevision ?? null)) === 'forgotten') forgotten.push(name);
      }
      if (ordered.length > 0) {
        const id = changeSetId(head);
        const existing = await tx.getChangeSet(id);
        const names = ordered.map((u) => u.name);
        await tx.putChangeSet(existing ? { ...existing, units: [...new Set([...existing.units, ...names])] } : { id, revision: head, createdAt: new Date().toISOString(), units: names });
        for (const unit of ordered) await this.queuePlan(tx, unit, head, { changeSet: id });
      }
      await this.putSourceIn(tx, { phase: 'Ready', reason: 'Reconciled', message: `reconciled ${head.slice(0, 8)}`, lastFetchedRevision: head, lastReconciledRevision: head });
      return false;
    });
    this.log.debug({ head, snapshotMs, definitionsMs: definitionsMs - snapshotMs, manifestsRead: reread, targetsMs, readsMs, commitMs: lap() }, 'commit reconciled');
    if (raced) {
      this.log.info({ head }, 'another member reconciled first: its plans stand');
      await this.refreshDefinitions();
      return [];
    }
    await this.removeForgottenFolders(forgotten);
    this.definitions = definitions;
    this.definitionsAt = head;
    for (const unit of ordered) this.scheduler.cancel(unit.name, 'superseded by a newer commit', { revision: head });
    this.driftTimers.retain(new Set(this.definitions.keys()));
    this.driftTimers.arm([...this.definitions.keys()].filter((n) => !before.has(n) || before.get(n)?.manifestHash !== this.definitions.get(n)?.manifestHash));
    return ordered.map((u) => u.name);
  }

  /**
   * Queue a plan of `unit` at `revision`: a newer commit wins, so queued plans
   * and applies of the unit go and its waiting plans are superseded.
   */
  private async queuePlan(tx: StoreTx, unit: UnitDefinition, revision: string, options: { changeSet?: string; reason?: string } = {}): Promise<void> {
    for (const plan of await tx.listPlans({ unit: unit.name, status: ['Pending', 'Approved'] })) {
      this.reviewTimers.get(plan.id)?.clear();
      await t.superseded(tx, plan, options.reason ? `superseded: ${options.reason}` : `superseded by commit ${revision.slice(0, 8)}`);
    }
    await t.enqueue(tx, newRun('plan', unit.name, revision, options), { replaces: [...PLANNING_KINDS, 'apply'] });
    await t.noted(tx, unit, { lastAttemptedRevision: revision });
  }

  /**
   * The units a commit sets in motion: new ones, and those that read a path
   * it changed (their folder, a shared module or role, a `watch:` glob), as
   * they read it at the previous commit. Everything else keeps its state.
   */
  private async touchedBy(
    changed: readonly string[],
    units: readonly UnitDefinition[],
    before: ReadonlyMap<string, UnitDefinition>,
    previous: string,
    storedReads: ReadonlyMap<string, UnitReads>,
  ): Promise<UnitDefinition[]> {
    const targets: UnitDefinition[] = [];
    for (const unit of units) {
      const known = before.get(unit.name);
      // A unit whose reads were never recorded (a state from an older version) is read at the previous commit once.
      const reads = storedReads.get(unit.name) ?? (known ? await this.readUnit(known, previous) : undefined);
      const path = reads ? touchedPath(reads, changed) : unit.path;
      if (!known || path !== undefined) {
        targets.push(unit);
        if (path && !covers(unit.path, path)) this.log.info({ unit: unit.name, path }, 'a path the unit reads changed: planning it');
      }
    }
    return targets;
  }

  private async readUnit(unit: UnitDefinition, revision: string): Promise<UnitReads> {
    return readsOf(unit, revision, await this.source.snapshot(revision), this.providers.get(unit.kind), this.log);
  }

  /** The folders of units the store just forgot; one whose plan still runs here keeps its folder (the plan reads it). */
  private async removeForgottenFolders(names: readonly string[]): Promise<void> {
    const running = this.scheduler.runningUnits();
    for (const name of names) if (!running.has(name)) await removePrunedUnitFolders(this.paths, name);
  }

  /** The definition a removed unit had when it was last applied (its destroy uses that code). */
  private async lastAppliedDefinition(name: string, last: UnitDefinition | undefined): Promise<UnitDefinition | undefined> {
    const status = await this.store.getUnit(name);
    if (!status?.lastAppliedRevision) return last;
    if (!(await this.source.hasCommit(status.lastAppliedRevision))) return last;
    const then = (await this.loadAt(status.lastAppliedRevision)).units.find((u) => u.name === name);
    // The prune setting is the last one the repository gave, before the folder went.
    return then && last ? { ...then, ...(last.prune ? { prune: true } : {}) } : (then ?? last);
  }

  /**
   * A unit whose definition left the repository. Plumbline never destroys on
   * its own: without `prune` the unit is Orphaned, its state kept and what it
   * manages listed; with `prune: true` the destroy of everything in its state
   * is planned from its last applied commit's code, and that plan always
   * waits for a person. A unit never applied, or whose tool keeps no state,
   * is simply forgotten; one whose applies all failed counts as applied at its
   * newest attempt (a failed apply may have made things).
   */
  private async retire(tx: StoreTx, name: string, last: UnitDefinition | undefined, lastAppliedRevision: string | null): Promise<'forgotten' | undefined> {
    const status = await tx.getUnit(name);
    if (!status || status.phase === 'Orphaned') return undefined;
    // An apply that failed part-way may have made things: the unit is not forgotten as never applied.
    const lastApplied = lastAppliedRevision ?? (await lastApplyAttempt(tx, name));
    for (const run of await tx.listRuns({ unit: name })) if (run.state === 'queued') await tx.deleteRun(run.id);
    for (const plan of await tx.listPlans({ unit: name, status: ['Pending', 'Approved'] })) await t.superseded(tx, plan, 'the unit was removed from the repository');
    const managed = (await tx.listPlans({ unit: name, status: ['Applied', 'NoChanges'], limit: 1 }))[0]?.managed ?? [];
    const listed = managed.length > 0 ? `; it still manages ${describeList(managed)}` : '';
    const ref = { name, kind: status.kind, path: status.path };
    if (!last?.prune) {
      const message = lastApplied
        ? `the definition was removed from the repository; its state is kept${listed}. Restore the folder to manage it again, or restore it with prune: true and remove it again to destroy what it manages`
        : 'the definition was removed from the repository before it was ever applied';
      if (lastApplied) {
        await t.orphaned(tx, ref, this.sourceStatus.lastFetchedRevision, message);
        return undefined;
      }
      await t.pruned(tx, name, `${name} was removed from the repository before it was ever applied`);
      return 'forgotten';
    }
    if (!lastApplied || !this.providers.get(last.kind)?.canDestroy) {
      await t.pruned(tx, name, lastApplied ? `${name} was removed from the repository; its tool keeps no state to destroy` : `${name} was removed from the repository before it was ever applied`);
      return 'forgotten';
    }
    this.log.info({ unit: name, revision: lastApplied }, 'unit removed with prune: planning the destroy of what it manages');
    await t.enqueue(tx, newRun('destroy', name, lastApplied, { reason: 'removed from the repository with prune: true' }), { replaces: [...PLANNING_KINDS, 'apply'] });
    return undefined;
  }

  /**
   * The definitions at `revision`, reading again only the manifests a change
   * since the last reading of the branch may have affected. `remember`: the
   * branch's own reading, the base of the next one.
   */
  private async loadAt(
    revision: string,
    options: { remember?: boolean; base?: string | null } = {},
  ): Promise<{ units: UnitDefinition[]; problems: Problem[]; snapshotMs: number; reread: number }> {
    const started = performance.now();
    const snapshot = await this.source.snapshot(revision, { base: options.base });
    const snapshotMs = Math.round(performance.now() - started);
    const loaded = await loadDefinitions(snapshot, this.config.defaults, this.config.limits, builtinProviders, await this.reuseFor(revision));
    if (options.remember) this.definitionsCache = { revision, cache: loaded.cache };
    rememberUnitFolders(snapshot, loaded.folders);
    return { ...loaded, snapshotMs };
  }

  /** The last reading and what changed since, unless a symlink changed (or the diff failed): then every manifest is read. */
  private async reuseFor(revision: string): Promise<Reuse | undefined> {
    const last = this.definitionsCache;
    if (!last) return undefined;
    if (last.revision === revision) return { previous: last.cache, changed: [] };
    try {
      const changes = await this.source.changes(last.revision, revision);
      if (changes.some((c) => c.oldMode === SYMLINK_MODE || c.newMode === SYMLINK_MODE)) return undefined;
      const modified = new Set(changes.filter((c) => c.oldMode !== ABSENT_MODE && c.newMode !== ABSENT_MODE).map((c) => c.path));
      return { previous: last.cache, changed: changes.map((c) => c.path), modified };
    } catch (error) {
      this.log.debug({ revision, since: last.revision, err: asPlumblineError(error) }, 'could not list the changes since the last reading: reading every manifest');
      return undefined;
    }
  }

  private async putSource(patch: Partial<SourceStatus>, event?: t.EventInput): Promise<void> {
    await this.store.write(async (tx) => {
      if (event) await t.record(tx, event);
      await this.putSourceIn(tx, patch);
    });
  }

  private async putSourceIn(tx: StoreTx, patch: Partial<SourceStatus>): Promise<void> {
    this.sourceStatus = { ...this.sourceStatus, ...patch };
    await tx.putSource(this.sourceStatus);
  }

  // The API

  async status(): Promise<StatusAnswer> {
    // Every member answers from the store: the leader's view of the source is the one that counts.
    const source = await this.store.getSource();
    if (source && !this.membership.isLeader()) this.sourceStatus = { ...this.sourceStatus, ...source };
    const imported = this.store.imported;
    const damaged = (imported?.damaged ?? []).map((file) => {
      const [path] = file.split(/:(?=\d+$)/);
      const inStore = relative(join(this.paths.root, 'store'), path!);
      return { file: relative(this.paths.root, file), movedTo: relative(this.paths.root, join(imported!.movedTo, inStore)), error: 'did not parse' };
    });
    return {
      source: { ...this.sourceStatus },
      units: await this.store.listUnits(),
      sandbox: sandboxStatus(sandboxSettings(this.config).mode),
      ...(damaged.length > 0 ? { damaged } : {}),
    };
  }

  async listPlans(filter: { unit?: string; limit?: number; before?: string } = {}): Promise<PlanRecord[]> {
    return (await this.store.listPlans({ ...filter, limit: filter.limit ?? 200 })).map(publicPlan);
  }

  async getPlan(id: string): Promise<PlanDetail> {
    const plan = await this.requirePlan(id);
    // From the store: the plan may have been made on another member.
    const artifacts = await this.store.getArtifacts(plan.id);
    const paths = runPaths(this.paths.run(plan.runId));
    const text = async (name: string, file: string) => artifacts.get(name)?.toString('utf8') ?? (await readFile(file, 'utf8').catch(() => undefined));
    const rendered = (await text(basename(paths.rendered), paths.rendered)) ?? '(the rendered plan is no longer stored)';
    const documentText = await text(basename(paths.document), paths.document);
    let document: unknown = null;
    try {
      document = documentText ? (JSON.parse(documentText) as unknown) : null;
    } catch {
      document = null;
    }
    return { plan: publicPlan(plan), rendered, document };
  }

  async approve(id: string, actor: Actor): Promise<PlanRecord> {
    return this.approvePlan(id, actor.name, actor);
  }

  /** Approved by a token (`actor`, its units checked and recorded), or by the engine's policy. */
  private async approvePlan(id: string, by: string, actor?: Actor): Promise<PlanRecord> {
    const approved = await this.commit(async (tx) => {
      const plan = await tx.getPlan(id);
      if (!plan) throw new NotFoundError('E_PLAN_NOT_FOUND', `no plan ${id}`, { hint: 'list plans with: plumbline plans' });
      if (actor) requireUnits(actor, [plan.unit], 'approve plans');
      return this.approveIn(tx, plan, by, actor && auditFields(actor));
    });
    this.reviewTimers.get(id)?.clear();
    this.log.info({ planId: id, by, ...(actor?.remote ? { remote: actor.remote } : {}) }, 'plan approved');
    return publicPlan(approved);
  }

  private async approveIn(tx: StoreTx, plan: StoredPlan, by: string, audit?: t.Audit): Promise<StoredPlan> {
    if (plan.status !== 'Pending') throw undecidable(plan, 'approve');
    const unit = await tx.getUnit(plan.unit);
    const current = unit?.planId;
    if (current !== plan.id) {
      throw new ConflictError('E_PLAN_NOT_CURRENT', `cannot approve plan ${plan.id}: ${plan.unit}'s current plan is ${current ?? 'none'}`, {
        hint: current ? `review the current plan with: plumbline show ${current}` : `list the unit's plans with: plumbline plans --unit ${plan.unit}`,
      });
    }
    return t.approved(tx, { name: plan.unit, kind: plan.kind, path: unit?.path ?? '' }, plan.id, by, newRun('apply', plan.unit, plan.revision, { planId: plan.id }), { event: true, audit });
  }

  async reject(id: string, actor: Actor, reason?: string): Promise<PlanRecord> {
    const rejected = await this.commit(async (tx) => {
      const plan = await tx.getPlan(id);
      if (!plan) throw new NotFoundError('E_PLAN_NOT_FOUND', `no plan ${id}`, { hint: 'list plans with: plumbline plans' });
      requireUnits(actor, [plan.unit], 'reject plans');
      if (plan.status !== 'Pending' && plan.status !== 'Approved') throw undecidable(plan, 'reject');
      const unit = await tx.getUnit(plan.unit);
      return t.rejected(tx, { name: plan.unit, kind: plan.kind, path: unit?.path ?? '' }, id, actor.name, reason, auditFields(actor));
    });
    this.reviewTimers.get(id)?.clear();
    await rm(runPaths(this.paths.run(rejected.runId)).tree, { recursive: true, force: true });
    return publicPlan(rejected);
  }

  async history(filter: { unit?: string; limit?: number; before?: number } = {}): Promise<HistoryEvent[]> {
    return this.store.listHistory({ ...filter, limit: filter.limit ?? 200 });
  }

  async metrics(): Promise<MetricsAnswer> {
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      processes: Object.fromEntries(processCounts),
      polls: this.sourceStatus.fetchCount,
      uptimeSeconds: Math.round(process.uptime()),
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      cpu: { userMicros: cpu.user, systemMicros: cpu.system },
    };
  }

  async listChangeSets(): Promise<ChangeSet[]> {
    return this.store.listChangeSets({ limit: 200 });
  }

  async getChangeSet(id: string): Promise<ChangeSetDetail> {
    const changeSet = await this.store.getChangeSet(id);
    if (!changeSet) throw new NotFoundError('E_CHANGESET_NOT_FOUND', `no change set ${id}`, { hint: 'list change sets with: plumbline changesets' });
    const involved = new Set([...changeSet.units, ...this.definitions.keys()]);
    const statuses = new Map((await this.store.listUnits()).filter((u) => involved.has(u.name)).map((u) => [u.name, u]));
    const plans = await this.store.listPlans({ changeSet: id });
    return describeChangeSet(changeSet, [...this.definitions.values()], (n) => statuses.get(n), (u) => plans.filter((p) => p.unit === u).map(publicPlan));
  }

  /**
   * Approve a whole change set: every plan of it now pending is approved (the
   * approver saw them), and later plans of the set (dependants planned after
   * their upstream applied) are approved automatically unless they delete or
   * replace something. The actor must be allowed every unit the set may
   * still plan: its own, and the dependants planned again after them.
   */
  async approveChangeSet(id: string, actor: Actor): Promise<ChangeSetDetail> {
    const by = actor.name;
    await this.commit(async (tx) => {
      const changeSet = await tx.getChangeSet(id);
      if (!changeSet) throw new NotFoundError('E_CHANGESET_NOT_FOUND', `no change set ${id}`, { hint: 'list change sets with: plumbline changesets' });
      const involved = [...new Set([...changeSet.units, ...downstreamOf(changeSet.units, [...this.definitions.values()])])];
      requireUnits(actor, involved, `approve change set ${id}`);
      const pending = await tx.listPlans({ changeSet: id, status: ['Pending'] });
      if (changeSet.revision !== this.sourceStatus.lastReconciledRevision && pending.length === 0) {
        throw new ConflictError('E_CHANGESET_SUPERSEDED', `change set ${id} is not the newest and has no pending plans left`, {
          hint: 'approve the newest change set instead (plumbline plans shows which plans wait)',
        });
      }
      await tx.putChangeSet({ ...changeSet, approvedBy: by, approvedAt: new Date().toISOString() });
      await t.record(tx, { type: 'changeset-approved', unit: null, revision: changeSet.revision, planId: null, message: `change set ${id} approved by ${by}`, ...auditFields(actor) });
      for (const plan of pending) await this.approveIn(tx, plan, `changeset:${id} (${by})`, auditFields(actor));
    });
    return this.getChangeSet(id);
  }

  /**
   * Poll now (any approver: it fetches sooner what the next poll would), and
   * plan one unit again (an approver of that unit). Accepting a rewritten
   * history takes an admin. The request is recorded before the poll, so it is
   * in the history whatever the poll then finds.
   */
  async sync(options: { allowRewrite: boolean; unit?: string }, actor: Actor): Promise<SyncAnswer> {
    if (options.allowRewrite) requireRole(actor, 'admin', 'sync --allow-rewrite');
    if (options.unit && !this.definitions.has(options.unit) && !(await this.store.getUnit(options.unit))) {
      throw new NotFoundError('E_UNIT_NOT_FOUND', `no unit ${options.unit}`, { hint: 'list units with: plumbline status' });
    }
    if (options.unit) requireUnits(actor, [options.unit], 'sync');
    const what = `${options.allowRewrite ? 'sync accepting a rewritten history' : 'sync'}${options.unit ? ` of ${options.unit}` : ''}`;
    await this.store.write((tx) =>
      t.record(tx, {
        type: options.allowRewrite ? 'rewrite-allowed' : 'sync-requested',
        unit: options.unit ?? null,
        revision: this.sourceStatus.lastFetchedRevision,
        planId: null,
        message: `${what} requested by ${describeActor(actor)}`,
        ...auditFields(actor),
      }),
    );
    await this.started;
    const answer = await this.poll({ allowRewrite: options.allowRewrite });
    if (options.unit && answer.revision && this.sourceStatus.phase === 'Ready' && !answer.scheduled.includes(options.unit)) {
      const unit = this.definitions.get(options.unit);
      if (!unit) {
        throw new ConflictError('E_UNIT_NOT_PLANNABLE', `unit ${options.unit} has no valid definition at ${answer.revision.slice(0, 8)}`, {
          hint: 'fix the definition (plumbline validate) and push a commit',
        });
      }
      const revision = answer.revision;
      await this.commit((tx) => this.queuePlan(tx, unit, revision, { reason: 'plumbline sync --unit' }));
      this.scheduler.cancel(unit.name, 'planned again by plumbline sync --unit');
      answer.scheduled.push(unit.name);
    }
    return answer;
  }

  /** Ready to serve: the store answers and this process has fetched the source at least once. */
  async ready(): Promise<boolean> {
    if (!this.fetchedHere || this.stopping) return false;
    try {
      await this.store.getSource();
      return true;
    } catch {
      return false;
    }
  }

  /** `plumbline cluster`: the members sharing the store, as the store knows them. */
  async cluster(): Promise<ClusterAnswer> {
    const [members, runs, lease] = await Promise.all([this.store.listMembers(), this.store.listRuns({ state: 'running' }), this.store.leader()]);
    const now = Date.now();
    const ttl = this.config.cluster?.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    return {
      members: members.map((m) => ({
        ...m,
        leader: lease?.holder === m.name && Date.parse(lease.expiresAt) > now,
        lapsed: now - Date.parse(m.heartbeatAt) > ttl,
        runs: runs
          .filter((r) => r.claimedBy === m.name)
          .map((r) => ({ unit: r.unit, kind: r.kind, revision: r.revision, ...(r.planId ? { planId: r.planId } : {}), ...(r.leaseUntil ? { leaseUntil: r.leaseUntil } : {}) })),
      })),
    };
  }

  /** `plumbline why NAME`: what the unit reads, as the daemon uses it to decide what a commit plans. */
  async why(unit: string): Promise<UnitReads> {
    const def = this.definitions.get(unit);
    if (!def) throw new NotFoundError('E_UNIT_NOT_FOUND', `no unit ${unit}`, { hint: 'list units with: plumbline status' });
    const stored = await this.store.getReads(unit);
    const revision = this.sourceStatus.lastReconciledRevision;
    if (stored || !revision) return stored ?? { unit, revision: '', entries: [{ path: def.path, why: `the ${def.type} folder` }], watch: def.watch ?? [], notes: [] };
    const reads = await this.readUnit(def, revision);
    await this.store.write((tx) => tx.putReads(reads));
    return reads;
  }

  private async requirePlan(id: string): Promise<StoredPlan> {
    const plan = await this.store.getPlan(id);
    if (!plan) throw new NotFoundError('E_PLAN_NOT_FOUND', `no plan ${id}`, { hint: 'list plans with: plumbline plans' });
    return plan;
  }
}

/** Problems with errors, by unit (a warning never makes a unit invalid). */
function problemsByUnit(units: readonly UnitDefinition[], problems: readonly Problem[]): Map<string, Problem[]> {
  const byUnit = new Map<string, Problem[]>();
  for (const problem of problems.filter(isError)) {
    const name = problem.unit ?? units.find((u) => problem.file === u.path || problem.file.startsWith(`${u.path}/`))?.name ?? problem.file;
    byUnit.set(name, [...(byUnit.get(name) ?? []), problem]);
  }
  return byUnit;
}

function publicPlan(plan: StoredPlan): PlanRecord {
  const { runId: _runId, managed: _managed, ...rest } = plan;
  return rest;
}

/** `a, b, c and 12 more`. */
function describeList(items: readonly string[], shown = 10): string {
  return items.length > shown ? `${items.slice(0, shown).join(', ')} and ${items.length - shown} more` : items.join(', ');
}

function undecidable(plan: StoredPlan, verb: 'approve' | 'reject'): ConflictError {
  const decided = `${plan.decidedBy ? ` by ${plan.decidedBy}` : ''}${plan.decidedAt ? ` at ${plan.decidedAt}` : ''}`;
  const why: Record<string, string> = {
    Superseded: `it was superseded (${plan.error?.message ?? 'a newer plan exists'}); review the newer plan with: plumbline plans --unit ${plan.unit}`,
    Rejected: `it was already rejected${decided}`,
    Failed: `its apply failed: ${plan.error?.message ?? ''}`,
    Interrupted: 'its apply was interrupted; the unit has been planned again',
    NoChanges: 'it has no changes to apply',
    Applied: `it is already applied (approved${decided})`,
    Approved: `it is already approved${decided} and queued to apply`,
    Applying: 'it is being applied',
  };
  return new ConflictError('E_PLAN_NOT_PENDING', `cannot ${verb} plan ${plan.id}: ${why[plan.status] ?? `it is ${plan.status}`}`, {
    hint: 'only a Pending plan can be approved or rejected',
  });
}

/** Milliseconds since the last call (or the first), for the debug log's breakdowns. */
function laps(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const ms = Math.round(now - last);
    last = now;
    return ms;
  };
}

/**
 * The commit of the newest apply of `unit` that started and did not succeed
 * (failed, cut off, or still marked applying): the unit's infrastructure may
 * hold what it made, though the unit was never applied.
 */
async function lastApplyAttempt(tx: StoreTx, unit: string): Promise<string | null> {
  const [attempt] = await tx.listPlans({ unit, status: ['Applying', 'Failed', 'Interrupted'], limit: 1 });
  return attempt?.revision ?? null;
}
