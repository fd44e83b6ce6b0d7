import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, relative } from 'node:path';
import PQueue from 'p-queue';
import type { DriftAnswer, EngineFacade, MetricsAnswer, PlanDetail, StatusAnswer, SyncAnswer } from '../api/contract.ts';
import { processCounts } from '../exec.ts';
import type { DaemonConfig } from '../config/types.ts';
import { loadDefinitions } from '../definitions/load.ts';
import type { DriftPolicy, UnitDefinition } from '../definitions/types.ts';
import { ConflictError, NotFoundError, PlumblineError, asPlumblineError, formatProblem, isError, type Problem } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ChangeSet, HistoryEvent, PlanRecord, SourceStatus, UnitStatus } from '../model.ts';
import { KeyedMutex, Mutex } from '../mutex.ts';
import { runPaths, type StatePaths } from '../paths.ts';
import type { Provider } from '../provider.ts';
import { redactUrl, type GitSource } from '../source/git-source.ts';
import type { Store, StoredPlan } from '../store/store.ts';
import { topologicalOrder } from '../definitions/graph.ts';
import { unitForFile } from './affected.ts';
import { providerProblems } from '../definitions/provider-checks.ts';
import { covers, readsOf, touchedPath, type UnitReads } from '../definitions/reads.ts';
import { mapLimit } from '../concurrency.ts';
import { changeSetId, describeChangeSet, type ChangeSetDetail } from './change-sets.ts';
import { dependantsOf, describeReadiness, readiness } from './dependencies.ts';
import { setLongTimeout, type LongTimer } from '../timers.ts';
import { runApply } from './apply-run.ts';
import { collectGarbage } from './gc.ts';
import { runDriftCheck } from './drift-run.ts';
import { DriftScheduler } from './drift-scheduler.ts';
import { applyPolicy, runPlan, supersede } from './plan-run.ts';
import type { Runtime } from './runtime.ts';

export interface ControllerOptions {
  config: DaemonConfig;
  store: Store;
  source: GitSource;
  providers: Map<string, Provider>;
  paths: StatePaths;
  log: Logger;
}

const MAX_BACKOFF_MS = 10 * 60 * 1000;
const FIRST_BACKOFF_MS = 15 * 1000;

/**
 * The reconcile loop. A poll fetches the source; a new commit schedules a plan
 * for each unit whose folder it touched; each plan follows its unit's policy to
 * an apply or a wait. Runs go through one bounded queue, one at a time per unit.
 */
export class Controller implements EngineFacade, Runtime {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly source: GitSource;
  readonly paths: StatePaths;
  readonly log: Logger;
  private readonly providers: Map<string, Provider>;
  private readonly queue: PQueue;
  private readonly unitLocks = new KeyedMutex();
  private readonly pollLock = new Mutex();
  private definitions = new Map<string, UnitDefinition>();
  private readonly desired = new Map<string, string>();
  readonly activeRuns = new Set<string>();
  /** Units scheduled at a revision but waiting for (or blocked by) their dependencies. */
  private readonly waiting = new Map<string, string>();
  private readonly changeSetOf = new Map<string, string>();
  /** Units removed from the repository with `prune: true`, as last applied: their destroy plan's definition. */
  private readonly removed = new Map<string, UnitDefinition>();
  private readonly replanReasons = new Map<string, string>();
  private readonly planAborts = new Map<string, AbortController>();
  private readonly reviewTimers = new Map<string, LongTimer>();
  private readonly retries = new Map<string, { attempt: number; timer?: LongTimer }>();
  private pollTimer: LongTimer | undefined;
  private readonly driftTimers: DriftScheduler;
  private stopping = false;
  private sourceStatus: SourceStatus;

  constructor(options: ControllerOptions) {
    this.config = options.config;
    this.store = options.store;
    this.source = options.source;
    this.paths = options.paths;
    this.log = options.log;
    this.providers = options.providers;
    this.queue = new PQueue({ concurrency: options.config.concurrency });
    this.driftTimers = new DriftScheduler({
      policyOf: (unit) => this.driftPolicy(unit),
      check: async (unit) => {
        const policy = this.driftPolicy(unit);
        const why = this.driftBlocker(unit);
        if (!policy || why) {
          this.log.debug({ unit, why }, 'drift check skipped');
          return;
        }
        await this.checkDrift(unit, policy);
      },
      log: this.log,
    });

    this.sourceStatus = options.store.getSource() ?? {
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
    return this.definitions.get(unit) ?? this.removed.get(unit);
  }

  desiredRevision(unit: string): string | undefined {
    return this.desired.get(unit) ?? this.store.getUnit(unit)?.lastAppliedRevision ?? undefined;
  }

  private driftPolicy(unit: string): DriftPolicy | undefined {
    return this.definitions.get(unit)?.drift ?? this.config.defaults.drift;
  }

  /**
   * Why a drift check of `unit` cannot run now, or undefined if it can: only a
   * settled unit (applied, nothing newer scheduled, nothing running) is checked.
   */
  private driftBlocker(unit: string): string | undefined {
    const status = this.store.getUnit(unit);
    if (!this.definitions.has(unit) || !status) return 'unknown unit';
    if (status.phase !== 'InSync' && status.phase !== 'Drifted') return `it is ${status.phase}`;
    if (!status.lastAppliedRevision) return 'it was never applied';
    if (this.waiting.has(unit) || this.planAborts.has(unit)) return 'a run is in progress';
    if ((this.desired.get(unit) ?? status.lastAppliedRevision) !== status.lastAppliedRevision) return 'a newer commit is scheduled';
    if (this.store.listPlans({ unit }).some((p) => p.status === 'Applying' || p.status === 'Approved')) return 'an apply is in progress';
    return undefined;
  }

  /** Queue a drift check of one unit; it re-checks eligibility when its turn comes. */
  private checkDrift(unit: string, policy: DriftPolicy): Promise<void> {
    return this.unitLocks.run(unit, () =>
      this.queue.add(async () => {
        const status = this.store.getUnit(unit);
        const def = this.definitions.get(unit);
        if (this.stopping || !def || !status?.lastAppliedRevision || this.driftBlocker(unit)) return;
        const abort = new AbortController();
        this.planAborts.set(unit, abort);
        try {
          await runDriftCheck(this, def, status.lastAppliedRevision, policy, abort.signal);
        } finally {
          if (this.planAborts.get(unit) === abort) this.planAborts.delete(unit);
        }
      }),
    );
  }

  /** `plumbline drift [NAME]`: check now, whatever the interval (and even with checks off). */
  async drift(options: { unit?: string }): Promise<DriftAnswer> {
    const names = options.unit ? [options.unit] : [...this.definitions.keys()];
    if (options.unit && !this.definitions.has(options.unit)) {
      throw new NotFoundError('E_UNIT_NOT_FOUND', `no unit ${options.unit}`, { hint: 'list units with: plumbline status' });
    }
    const scheduled: string[] = [];
    const skipped: Array<{ unit: string; why: string }> = [];
    for (const unit of names) {
      const why = this.driftBlocker(unit);
      if (why) {
        skipped.push({ unit, why });
        continue;
      }
      scheduled.push(unit);
      void this.checkDrift(unit, this.driftPolicy(unit) ?? { intervalMs: null, action: 'report' }).catch((error) =>
        this.log.error({ err: error, unit }, 'drift check crashed'),
      );
    }
    return { scheduled, skipped };
  }

  isStopping(): boolean {
    return this.stopping;
  }

  async setUnit(name: string, patch: Partial<UnitStatus>): Promise<UnitStatus> {
    const current = this.store.getUnit(name);
    const def = this.definitions.get(name);
    const next: UnitStatus = {
      name,
      kind: def?.kind ?? current?.kind ?? 'unknown',
      path: def?.path ?? current?.path ?? '',
      phase: 'Pending',
      reason: 'Pending',
      message: '',
      lastAttemptedRevision: null,
      lastAppliedRevision: null,
      planId: null,
      ...current,
      ...patch,
      updatedAt: new Date().toISOString(),
    };
    // The store updates its memory synchronously, so dependants see the new phase now.
    const saved = this.store.putUnit(next);
    if (current?.phase !== next.phase) this.reviewDependants(name);
    return saved;
  }

  changeSetFor(unit: string): string | undefined {
    return this.changeSetOf.get(unit);
  }

  changeSetRecord(id: string): ChangeSet | undefined {
    return this.store.getChangeSet(id);
  }

  /**
   * An apply changed `unit`'s outputs: every dependant plans again, even if its
   * own folder did not change. Dependants already queued started after the
   * outputs were written, so they are left alone.
   */
  outputsChanged(unit: string): void {
    const head = this.sourceStatus.lastReconciledRevision;
    if (!head || this.stopping) return;
    // A remediation or retry of an older commit does not belong to that commit's change set.
    const upstreamSet = this.changeSetOf.get(unit);
    const changeSet = upstreamSet && this.store.getChangeSet(upstreamSet)?.revision === head ? upstreamSet : undefined;
    for (const dependant of dependantsOf(unit, this.definitions.values())) {
      const queuedNotStarted = this.store.getUnit(dependant.name)?.phase === 'Planning' && !this.planAborts.has(dependant.name);
      // Waiting ones start on their own; queued ones start after the outputs were written;
      // a plan already running read the old outputs, so schedulePlan cancels and redoes it.
      if (this.waiting.has(dependant.name) || queuedNotStarted) continue;
      this.log.info({ unit: dependant.name, upstream: unit }, 'upstream outputs changed: planning again');
      if (changeSet) void this.addToChangeSet(changeSet, dependant.name).catch(this.failed('change set update'));
      this.schedulePlan(dependant.name, head, changeSet, `${unit}'s outputs changed`);
    }
  }

  /** A catch handler for background work: log it, never crash the daemon over it. */
  private failed(what: string): (error: unknown) => void {
    return (error) => this.log.error({ err: asPlumblineError(error), what }, 'background work failed');
  }

  replan(unit: string): void {
    const revision = this.desiredRevision(unit) ?? this.sourceStatus.lastReconciledRevision;
    if (revision && !this.stopping) this.schedulePlan(unit, revision, this.changeSetOf.get(unit));
  }

  /** Re-evaluate the dependants of `name` that wait for it. */
  private reviewDependants(name: string): void {
    for (const dependant of dependantsOf(name, this.definitions.values())) {
      if (this.waiting.has(dependant.name)) this.tryStart(dependant.name);
    }
  }

  scheduleApply(plan: StoredPlan): void {
    void this.unitLocks.run(plan.unit, () => this.queue.add(async () => {
        if (!this.stopping) await runApply(this, plan.id);
      })).catch((error) =>
      this.log.error({ err: error, planId: plan.id }, 'apply crashed'),
    );
  }

  armReviewWindow(plan: StoredPlan): void {
    if (!plan.applyAt || this.stopping) return;
    this.reviewTimers.get(plan.id)?.clear();
    const delay = Math.max(0, Date.parse(plan.applyAt) - Date.now());
    const timer = setLongTimeout(() => {
      this.reviewTimers.delete(plan.id);
      void this.approve(plan.id, 'policy:applyAfter').catch((error) => this.log.debug({ err: error, planId: plan.id }, 'review window closed without apply'));
    }, delay);
    this.reviewTimers.set(plan.id, timer);
  }

  retryLater(unit: string, error: { retry: string }): void {
    if (error.retry === 'stalled' || this.stopping) return;
    const entry = this.retries.get(unit) ?? { attempt: 0 };
    entry.timer?.clear();
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** entry.attempt) * (0.9 + Math.random() * 0.2);
    entry.attempt += 1;
    entry.timer = setLongTimeout(() => {
      const revision = this.sourceStatus.lastReconciledRevision;
      if (revision && !this.stopping) this.schedulePlan(unit, revision);
    }, delay);
    this.retries.set(unit, entry);
    this.log.info({ unit, attempt: entry.attempt, delayMs: Math.round(delay) }, 'retry scheduled');
  }

  resetRetries(unit: string): void {
    this.retries.get(unit)?.timer?.clear();
    this.retries.delete(unit);
  }

  // Lifecycle

  /** Recover from the previous process: nothing cut off is ever applied blindly. */
  async recover(): Promise<void> {
    const revision = this.sourceStatus.lastReconciledRevision;
    let defined: Set<string> | undefined;
    if (revision && (await this.source.hasCommit(revision))) {
      const { units, problems } = await this.loadAt(revision);
      this.definitions = new Map(units.map((u) => [u.name, u]));
      defined = new Set([...units.map((u) => u.name), ...problems.flatMap((p) => (p.unit ? [p.unit] : []))]);
    }
    // Runs cut off before they recorded a plan left folders behind; nothing runs yet.
    await this.collectGarbage();
    const replan = new Set<string>();
    for (const plan of this.store.listPlans()) {
      if (plan.status === 'Applying') {
        await this.store.putPlan({
          ...plan,
          status: 'Interrupted',
          updatedAt: new Date().toISOString(),
          error: { code: 'E_INTERRUPTED', message: 'the daemon stopped during this apply; the unit is planned again' },
        });
        await this.store.appendHistory({ type: 'interrupted', unit: plan.unit, revision: plan.revision, planId: plan.id, message: 'apply cut off by a daemon stop' });
        replan.add(plan.unit);
      }
    }
    for (const unit of this.store.listUnits()) {
      if (unit.phase === 'Planning' || (unit.phase === 'Applying' && !replan.has(unit.name))) {
        const plan = unit.planId ? this.store.getPlan(unit.planId) : undefined;
        if (unit.phase === 'Applying' && plan?.status === 'Approved') continue; // queued, never started
        await this.store.appendHistory({ type: 'interrupted', unit: unit.name, revision: unit.lastAttemptedRevision, planId: null, message: 'run cut off by a daemon stop' });
        replan.add(unit.name);
      }
    }
    for (const record of this.store.damaged) {
      this.log.error({ file: record.file, movedTo: record.movedTo, error: record.error }, 'a damaged store record was moved aside');
      // A unit whose record, or whose current plan's record, was lost is planned again.
      if (basename(dirname(record.file)) === 'units') replan.add(basename(record.file, '.json').replaceAll('~', '/'));
    }
    for (const unit of this.store.listUnits()) {
      if (unit.planId && !this.store.getPlan(unit.planId) && (unit.phase === 'AwaitingApproval' || unit.phase === 'Applying' || unit.phase === 'Drifted')) replan.add(unit.name);
    }
    for (const plan of this.store.listPlans()) {
      if (plan.status === 'Pending' || plan.status === 'Approved') this.desired.set(plan.unit, plan.revision);
    }
    for (const name of replan) {
      if (revision && this.definitions.has(name)) this.schedulePlan(name, revision);
    }
    for (const unit of this.store.listUnits()) {
      const waited = unit.phase === 'Blocked' || (unit.phase === 'Pending' && unit.reason === 'WaitingForDependencies');
      if (waited && revision && this.definitions.has(unit.name) && !replan.has(unit.name)) {
        // Keep the change set (and so its approval) the unit was waiting in.
        const at = unit.lastAttemptedRevision ?? revision;
        const set = this.store.getChangeSet(changeSetId(at));
        this.schedulePlan(unit.name, at, set?.units.includes(unit.name) ? set.id : undefined);
      }
    }
    if (defined) await this.recoverRemoved(defined);
    for (const plan of this.store.listPlans()) {
      if (replan.has(plan.unit) && plan.purpose !== 'destroy') continue;
      if (plan.status === 'Pending' && plan.applyAt) this.armReviewWindow(plan);
      if (plan.status === 'Approved') this.scheduleApply(plan);
    }
  }

  /**
   * Units whose definition had left the repository when the daemon stopped: a
   * destroy plan waiting (or approved) gets its definition back; a removal cut
   * off half-way (a destroy planned or applied when the daemon stopped) is
   * handled again, never applied blindly.
   */
  private async recoverRemoved(defined: ReadonlySet<string>): Promise<void> {
    for (const unit of this.store.listUnits()) {
      if (defined.has(unit.name) || unit.phase === 'Orphaned') continue;
      const destroy = this.store.listPlans({ unit: unit.name }).find((p) => p.purpose === 'destroy' && (p.status === 'Pending' || p.status === 'Approved'));
      const revision = destroy?.revision ?? unit.lastAppliedRevision;
      const def = revision && (await this.source.hasCommit(revision)) ? (await this.loadAt(revision)).units.find((u) => u.name === unit.name) : undefined;
      if (destroy && def) {
        this.removed.set(unit.name, def);
        this.desired.set(unit.name, destroy.revision);
      } else if (def) {
        await this.retire(unit.name, def);
      } else if (unit.lastAppliedRevision) {
        // Never destroy, never forget what cannot be read back: keep it for a person.
        await this.setUnit(unit.name, { phase: 'Orphaned', reason: 'RemovedFromSource', message: 'the definition was removed from the repository and its last applied commit is no longer in the mirror; its state is kept' });
      } else {
        await this.forget(unit.name, `${unit.name} was removed from the repository before it was ever applied`);
      }
    }
  }

  /** Drop snapshots and run folders nothing refers to any more (never on an idle poll). */
  private async collectGarbage(): Promise<void> {
    const keep = { revisions: [this.sourceStatus.lastReconciledRevision, ...this.desired.values(), ...this.waiting.values()], runs: this.activeRuns };
    await collectGarbage(this.store, this.paths, keep, this.log).catch(
      (error) => this.log.warn({ err: error }, 'state directory cleanup failed'),
    );
  }

  start(): void {
    this.driftTimers.arm(this.definitions.keys());
    const tick = async () => {
      if (this.stopping) return;
      await this.poll({ allowRewrite: false }).catch((error) => this.log.warn({ err: asPlumblineError(error) }, 'poll failed'));
      if (this.stopping) return;
      const jitter = 0.9 + Math.random() * 0.2;
      this.pollTimer = setLongTimeout(() => void tick(), this.config.source.intervalMs * jitter);
    };
    void tick();
  }

  /** Stop polling, cancel plans, let running applies finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pollTimer?.clear();
    for (const timer of this.reviewTimers.values()) timer.clear();
    for (const entry of this.retries.values()) entry.timer?.clear();
    this.driftTimers.stop();
    for (const abort of this.planAborts.values()) abort.abort('daemon stopping');
    await this.pollLock.run(async () => undefined);
    await this.queue.onIdle();
  }

  // Polling

  async poll(options: { allowRewrite: boolean }): Promise<SyncAnswer> {
    return this.pollLock.run(async () => {
      const started = performance.now();
      let head: string;
      try {
        head = await this.source.fetch();
      } catch (error) {
        const typed = asPlumblineError(error);
        await this.putSource({ message: `fetch failed: ${typed.message}`, reason: 'FetchFailed' });
        throw typed;
      }
      this.sourceStatus.fetchCount += 1;
      this.sourceStatus.lastFetchAt = new Date().toISOString();
      const previous = this.sourceStatus.lastReconciledRevision;
      if (this.sourceStatus.phase === 'Stalled' && this.sourceStatus.lastFetchedRevision === head && !options.allowRewrite) {
        return { revision: head, scheduled: [] };
      }
      if (head === previous && this.sourceStatus.phase === 'Ready') {
        return { revision: head, scheduled: [] };
      }
      // Whether the mirror still holds the previous commit (a force-push can drop it).
      const previousKnown = previous !== null && head !== previous ? await this.source.hasCommit(previous) : previous !== null;
      if (previous && head !== previous) {
        const fastForward = previousKnown && (await this.source.isAncestor(previous, head));
        if (!fastForward && !options.allowRewrite) {
          const message = `${head.slice(0, 8)} does not descend from ${previous.slice(0, 8)} (force-push or history rewrite); nothing is applied until an operator runs: plumbline sync --allow-rewrite`;
          if (this.sourceStatus.phase !== 'Stalled' || this.sourceStatus.lastFetchedRevision !== head) {
            await this.store.appendHistory({ type: 'source-stalled', unit: null, revision: head, planId: null, message });
            this.log.warn({ head, previous }, 'history rewritten: source stalled');
          }
          await this.putSource({ phase: 'Stalled', reason: 'HistoryRewritten', message, lastFetchedRevision: head });
          return { revision: head, scheduled: [] };
        }
      }
      const fetchedMs = performance.now() - started;
      const scheduled = await this.reconcileRevision(head, previous, previousKnown);
      await this.putSource({ phase: 'Ready', reason: 'Reconciled', message: `reconciled ${head.slice(0, 8)}`, lastFetchedRevision: head, lastReconciledRevision: head });
      const reconciledMs = performance.now() - started;
      await this.collectGarbage();
      this.log.debug(
        { head, scheduled: scheduled.length, fetchMs: Math.round(fetchedMs), reconcileMs: Math.round(reconciledMs - fetchedMs), totalMs: Math.round(performance.now() - started) },
        'poll reconciled a new commit',
      );
      return { revision: head, scheduled };
    });
  }

  private async reconcileRevision(head: string, previous: string | null, previousKnown: boolean): Promise<string[]> {
    const { units, problems } = await this.loadAt(head);
    const loaderInvalid = new Set(problems.filter(isError).map((p) => p.unit ?? ''));
    const before = this.definitions;
    const valid = units.filter((u) => !loaderInvalid.has(u.name));

    let targets: UnitDefinition[];
    if (previous === head) {
      // The same commit again (a source recovering from Stalled): only units never planned.
      targets = valid.filter((u) => !this.store.getUnit(u.name));
    } else if (!previous || !previousKnown) {
      targets = valid;
    } else {
      targets = await this.touchedBy(await this.source.changedPaths(previous, head), valid, before, previous);
    }
    // The providers' own static checks (undeclared variables, module sources
    // leaving the repository), on what this commit plans: a unit they refuse is
    // Stalled with its problems, never planned.
    const snapshot = await this.source.snapshot(head);
    const checked = await mapLimit(targets, 16, (unit) => providerProblems(unit, snapshot, this.providers.get(unit.kind), { processes: false }));
    const invalid = await this.recordProblems(units, [...problems, ...checked.flat()], head);
    this.definitions = new Map(units.filter((u) => !invalid.has(u.name)).map((u) => [u.name, u]));
    targets = targets.filter((u) => !invalid.has(u.name));
    const all = [...this.definitions.values()];
    // What a unit reads changes only with what it reads: only the targets (and
    // units never read) are read again.
    await this.refreshReads(all.filter((u) => targets.includes(u) || !this.store.getReads(u.name)), head);

    for (const [name, def] of before) {
      if (!units.some((u) => u.name === name) && !invalid.has(name)) await this.retire(name, def);
    }
    this.driftTimers.retain(new Set(this.definitions.keys()));
    const rearm = [...this.definitions.keys()].filter((n) => !before.has(n) || before.get(n)?.manifestHash !== this.definitions.get(n)?.manifestHash);
    this.driftTimers.arm(rearm);

    // Upstream first, so a dependant sees its dependencies in motion and waits.
    const ordered = topologicalOrder(targets);
    if (ordered.length > 0) {
      const changeSet = await this.openChangeSet(head, ordered.map((u) => u.name));
      for (const unit of ordered) this.schedulePlan(unit.name, head, changeSet.id);
    }
    return ordered.map((u) => u.name);
  }

  /**
   * A unit whose definition left the repository. Plumbline never destroys on
   * its own: without `prune` the unit is Orphaned, its state kept and what it
   * manages listed; with `prune: true` the destroy of everything in its state
   * is planned from its last applied commit's code, and that plan always
   * waits for a person. A unit never applied, or whose tool keeps no state,
   * is simply forgotten.
   */
  private async retire(name: string, last: UnitDefinition): Promise<void> {
    const status = this.store.getUnit(name);
    if (!status || status.phase === 'Orphaned' || this.removed.has(name)) return;
    this.cancelRuns(name, 'the unit was removed from the repository');
    const managed = this.lastManaged(name);
    const listed = managed.length > 0 ? `; it still manages ${describeList(managed)}` : '';
    if (!last.prune) {
      const message = `the definition was removed from the repository; its state is kept${listed}. Restore the folder to manage it again, or restore it with prune: true and remove it again to destroy what it manages`;
      await this.store.appendHistory({ type: 'orphaned', unit: name, revision: this.sourceStatus.lastFetchedRevision, planId: null, message });
      await this.setUnit(name, { phase: 'Orphaned', reason: 'RemovedFromSource', message });
      return;
    }
    const revision = status.lastAppliedRevision;
    if (!revision || !this.providers.get(last.kind)?.canDestroy) {
      await this.forget(name, revision ? `${name} was removed from the repository; its tool keeps no state to destroy` : `${name} was removed from the repository before it was ever applied`);
      return;
    }
    const def = (await this.loadAt(revision)).units.find((u) => u.name === name) ?? last;
    this.removed.set(name, def);
    this.log.info({ unit: name, revision }, 'unit removed with prune: planning the destroy of what it manages');
    this.desired.set(name, revision);
    await this.setUnit(name, { phase: 'Planning', reason: 'Pruning', message: `removed from the repository with prune: true: planning the destroy of what it manages (code of ${revision.slice(0, 8)})` });
    void this.unitLocks
      .run(name, () =>
        this.queue.add(async () => {
          if (!this.stopping && this.removed.get(name) === def) await runPlan(this, def, revision, new AbortController().signal, { destroy: true });
        }),
      )
      .catch((error) => this.log.error({ err: error, unit: name }, 'destroy plan crashed'));
  }

  /** A pruned unit's destroy is applied, or it had nothing to destroy: it stays in history only. */
  async forget(name: string, message: string): Promise<void> {
    this.removed.delete(name);
    this.desired.delete(name);
    this.waiting.delete(name);
    this.driftTimers.retain(new Set(this.definitions.keys()));
    await this.store.appendHistory({ type: 'pruned', unit: name, revision: null, planId: null, message });
    await this.store.deleteUnit(name);
    await rm(this.paths.unitState(name), { recursive: true, force: true });
    this.log.info({ unit: name }, 'unit pruned: it stays in history only');
  }

  /** What the unit manages, as its last applied plan says. */
  private lastManaged(name: string): string[] {
    return this.store.listPlans({ unit: name }).find((p) => p.status === 'Applied' || p.status === 'NoChanges')?.managed ?? [];
  }

  private cancelRuns(name: string, why: string): void {
    this.waiting.delete(name);
    this.planAborts.get(name)?.abort(why);
  }

  /**
   * The units a commit sets in motion: new ones, and those that read a path
   * it changed (their folder, a shared module or role, a `watch:` glob), as
   * they read it at the previous commit. Everything else keeps its state.
   */
  private async touchedBy(changed: readonly string[], units: readonly UnitDefinition[], before: ReadonlyMap<string, UnitDefinition>, previous: string): Promise<UnitDefinition[]> {
    const targets: UnitDefinition[] = [];
    for (const unit of units) {
      const known = before.get(unit.name);
      // A unit whose reads were never recorded (a state from an older version) is read at the previous commit once.
      const reads = this.store.getReads(unit.name) ?? (known ? await this.readUnit(known, previous) : undefined);
      const path = reads ? touchedPath(reads, changed) : unit.path;
      if (!known || path !== undefined) {
        targets.push(unit);
        if (path && !covers(unit.path, path)) this.log.info({ unit: unit.name, path }, 'a path the unit reads changed: planning it');
      }
    }
    return targets;
  }

  private async refreshReads(units: readonly UnitDefinition[], revision: string): Promise<void> {
    await mapLimit(units, 16, async (unit) => this.store.putReads(await this.readUnit(unit, revision)));
  }

  private async readUnit(unit: UnitDefinition, revision: string): Promise<UnitReads> {
    return readsOf(unit, revision, await this.source.snapshot(revision), this.providers.get(unit.kind), this.log);
  }

  /** `plumbline why NAME`: what the unit reads, as the daemon uses it to decide what a commit plans. */
  async why(unit: string): Promise<UnitReads> {
    const def = this.definitions.get(unit);
    if (!def) throw new NotFoundError('E_UNIT_NOT_FOUND', `no unit ${unit}`, { hint: 'list units with: plumbline status' });
    const revision = this.sourceStatus.lastReconciledRevision;
    const stored = this.store.getReads(unit);
    if (stored || !revision) return stored ?? { unit, revision: '', entries: [{ path: def.path, why: `the ${def.type} folder` }], watch: def.watch ?? [], notes: [] };
    const reads = await this.readUnit(def, revision);
    await this.store.putReads(reads);
    return reads;
  }

  private async openChangeSet(revision: string, units: string[]): Promise<ChangeSet> {
    const id = changeSetId(revision);
    const existing = this.store.getChangeSet(id);
    const record: ChangeSet = existing
      ? { ...existing, units: [...new Set([...existing.units, ...units])] }
      : { id, revision, createdAt: new Date().toISOString(), units };
    return this.store.putChangeSet(record);
  }

  private async addToChangeSet(id: string, unit: string): Promise<void> {
    const existing = this.store.getChangeSet(id);
    if (existing && !existing.units.includes(unit)) await this.store.putChangeSet({ ...existing, units: [...existing.units, unit] });
  }

  private async loadAt(revision: string): Promise<{ units: UnitDefinition[]; problems: Problem[] }> {
    const snapshot = await this.source.snapshot(revision);
    return loadDefinitions(snapshot, this.config.defaults, this.config.limits);
  }

  /** Invalid definitions stall their unit with every problem listed. */
  private async recordProblems(units: UnitDefinition[], problems: Problem[], head: string): Promise<Set<string>> {
    const byUnit = new Map<string, Problem[]>();
    const located = units.map((u) => ({ name: u.name, path: u.path }));
    for (const problem of problems.filter(isError)) {
      const name = problem.unit ?? unitForFile(problem.file, located) ?? problem.file;
      byUnit.set(name, [...(byUnit.get(name) ?? []), problem]);
    }
    for (const [name, list] of byUnit) {
      const message = list.map(formatProblem).join('\n');
      const previous = this.store.getUnit(name);
      await this.setUnit(name, { phase: 'Stalled', reason: 'InvalidDefinition', message, lastAttemptedRevision: head });
      if (previous?.message !== message) {
        await this.store.appendHistory({ type: 'definition-invalid', unit: name, revision: head, planId: null, message });
      }
      this.log.warn({ unit: name, problems: list.length }, 'invalid definition');
    }
    return new Set(byUnit.keys());
  }

  /**
   * Plan `unit` at `revision`. `why` says what made it plan again when it is
   * not a new commit (an upstream's outputs changed): the log, the superseded
   * plans and the new plan's history say so.
   */
  schedulePlan(unit: string, revision: string, changeSet?: string, why?: string): void {
    this.removed.delete(unit);
    this.desired.set(unit, revision);
    if (changeSet) this.changeSetOf.set(unit, changeSet);
    else this.changeSetOf.delete(unit);
    if (why) this.replanReasons.set(unit, why);
    else this.replanReasons.delete(unit);
    // A newer commit (or newer inputs) wins: cancel an older plan in flight and supersede waiting plans.
    const running = this.planAborts.get(unit);
    if (running) running.abort(why ? `planned again: ${why}` : 'superseded by a newer commit');
    void this.supersedeWaiting(unit, revision, why).catch(this.failed('superseding waiting plans'));
    this.waiting.set(unit, revision);
    this.tryStart(unit);
  }

  /**
   * Start a scheduled plan if every dependency is settled (applied at its newest
   * revision); otherwise record what the unit waits for or what blocks it.
   */
  private tryStart(unit: string): void {
    const revision = this.waiting.get(unit);
    const def = this.definitions.get(unit);
    if (!revision || !def) {
      this.waiting.delete(unit);
      return;
    }
    const ready = readiness(def, (n) => this.store.getUnit(n), (n) => this.definitions.has(n), (n) => this.desired.get(n));
    if (!ready.ready) {
      const blocked = ready.blockedBy.length > 0;
      const phase = blocked ? 'Blocked' : 'Pending';
      const message = describeReadiness(ready);
      const current = this.store.getUnit(unit);
      if (current?.phase !== phase || current.message !== message) {
        void this.setUnit(unit, { phase, reason: blocked ? 'DependencyNotReady' : 'WaitingForDependencies', message, lastAttemptedRevision: revision }).catch(this.failed('unit status'));
        void this.store.appendHistory({ type: blocked ? 'blocked' : 'waiting', unit, revision, planId: null, message }).catch(this.failed('history'));
      }
      return;
    }
    this.waiting.delete(unit);
    void this.setUnit(unit, { phase: 'Planning', reason: 'Queued', message: `plan of ${revision.slice(0, 8)} queued`, lastAttemptedRevision: revision }).catch(this.failed('unit status'));
    void this.unitLocks
      .run(unit, () =>
        this.queue.add(async () => {
          const def = this.definitions.get(unit);
          if (this.stopping || !def || this.desired.get(unit) !== revision) return;
          const abort = new AbortController();
          this.planAborts.set(unit, abort);
          try {
            await runPlan(this, def, revision, abort.signal);
          } finally {
            if (this.planAborts.get(unit) === abort) this.planAborts.delete(unit);
          }
        }),
      )
      .catch((error) => this.log.error({ err: error, unit }, 'plan crashed'));
  }

  private async supersedeWaiting(unit: string, revision: string, why?: string): Promise<void> {
    for (const plan of this.store.listPlans({ unit })) {
      // New inputs at the same commit make a waiting plan stale as surely as a new commit.
      if ((plan.status === 'Pending' || plan.status === 'Approved') && (plan.revision !== revision || why)) {
        this.reviewTimers.get(plan.id)?.clear();
        await supersede(this, plan, why ? `superseded: ${why}` : `superseded by commit ${revision.slice(0, 8)}`);
      }
    }
  }

  /** Why a unit is planned again when no new commit asked for it (once, for its next plan). */
  replanReason(unit: string): string | undefined {
    const why = this.replanReasons.get(unit);
    this.replanReasons.delete(unit);
    return why;
  }

  private async putSource(patch: Partial<SourceStatus>): Promise<void> {
    this.sourceStatus = { ...this.sourceStatus, ...patch };
    await this.store.putSource(this.sourceStatus);
  }

  // The API

  async status(): Promise<StatusAnswer> {
    const damaged = this.store.damaged.map((d) => ({ file: relative(this.paths.root, d.file), movedTo: relative(this.paths.root, d.movedTo), error: d.error }));
    return { source: { ...this.sourceStatus }, units: this.store.publishedUnits(), ...(damaged.length > 0 ? { damaged } : {}) };
  }

  async listPlans(filter: { unit?: string } = {}): Promise<PlanRecord[]> {
    return this.store.publishedPlans(filter).map(publicPlan);
  }

  async getPlan(id: string): Promise<PlanDetail> {
    const plan = this.requirePlan(id, 'published');
    const paths = runPaths(this.paths.run(plan.runId));
    const rendered = await readFile(paths.rendered, 'utf8').catch(() => '(the rendered plan is no longer stored)');
    const document = await readFile(paths.document, 'utf8')
      .then((t) => JSON.parse(t) as unknown)
      .catch(() => null);
    return { plan: publicPlan(plan), rendered, document };
  }

  async approve(id: string, by: string): Promise<PlanRecord> {
    const plan = this.requirePlan(id);
    if (plan.status === 'Approved' || plan.status === 'Applying' || plan.status === 'Applied') return publicPlan(plan);
    if (plan.status !== 'Pending') throw undecidable(plan, 'approve');
    const current = this.store.getUnit(plan.unit)?.planId;
    if (current !== plan.id) {
      throw new ConflictError('E_PLAN_NOT_CURRENT', `cannot approve plan ${id}: ${plan.unit}'s current plan is ${current ?? 'none'}`, {
        hint: `review the current plan with: plumbline show ${current ?? `(plumbline plans --unit ${plan.unit})`}`,
      });
    }
    this.reviewTimers.get(id)?.clear();
    const now = new Date().toISOString();
    const approved = await this.store.putPlan({ ...plan, status: 'Approved', decidedBy: by, decidedAt: now, updatedAt: now });
    await this.store.appendHistory({ type: 'approved', unit: plan.unit, revision: plan.revision, planId: id, message: `approved by ${by}` });
    await this.setUnit(plan.unit, { phase: 'Applying', reason: 'Queued', message: `apply of ${id} queued` });
    this.log.info({ planId: id, by }, 'plan approved');
    this.scheduleApply(approved);
    return publicPlan(approved);
  }

  async reject(id: string, by: string, reason?: string): Promise<PlanRecord> {
    const plan = this.requirePlan(id);
    if (plan.status === 'Rejected') return publicPlan(plan);
    if (plan.status !== 'Pending' && plan.status !== 'Approved') throw undecidable(plan, 'reject');
    this.reviewTimers.get(id)?.clear();
    const now = new Date().toISOString();
    const rejected = await this.store.putPlan({ ...plan, status: 'Rejected', decidedBy: by, decidedAt: now, updatedAt: now });
    const message = `plan ${id} was rejected by ${by}${reason ? `: ${reason}` : ''}; push a new commit or run plumbline sync --unit ${plan.unit} to plan again`;
    await this.store.appendHistory({ type: 'rejected', unit: plan.unit, revision: plan.revision, planId: id, message });
    if (plan.purpose === 'drift') {
      // Rejecting a remediation leaves the drift in place; the unit stays Drifted and checked.
      await this.setUnit(plan.unit, { phase: 'Drifted', reason: 'RemediationRejected', message: `${message}; the drift remains` });
    } else {
      await this.setUnit(plan.unit, { phase: 'Stalled', reason: 'PlanRejected', message });
    }
    await rm(runPaths(this.paths.run(plan.runId)).tree, { recursive: true, force: true });
    return publicPlan(rejected);
  }

  async history(filter: { unit?: string; limit?: number } = {}): Promise<HistoryEvent[]> {
    return this.store.listHistory(filter);
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
    return this.store.publishedChangeSets();
  }

  async getChangeSet(id: string): Promise<ChangeSetDetail> {
    const changeSet = this.store.getChangeSet(id);
    if (!changeSet) throw new NotFoundError('E_CHANGESET_NOT_FOUND', `no change set ${id}`, { hint: 'change sets are named cs-<commit>; see plumbline plans' });
    return describeChangeSet(changeSet, [...this.definitions.values()], (n) => this.store.publishedUnits().find((u) => u.name === n), (u) => this.store.publishedPlans({ unit: u }).map(publicPlan));
  }

  /**
   * Approve a whole change set: every plan of it now pending is approved (the
   * approver saw them), and later plans of the set (dependants planned after
   * their upstream applied) are approved automatically unless they delete or
   * replace something.
   */
  async approveChangeSet(id: string, by: string): Promise<ChangeSetDetail> {
    const changeSet = this.store.getChangeSet(id);
    if (!changeSet) throw new NotFoundError('E_CHANGESET_NOT_FOUND', `no change set ${id}`);
    if (changeSet.revision !== this.sourceStatus.lastReconciledRevision && this.store.listPlans().every((p) => p.changeSet !== id || p.status !== 'Pending')) {
      throw new ConflictError('E_CHANGESET_SUPERSEDED', `change set ${id} is not the newest and has no pending plans left`, {
        hint: 'approve the newest change set instead (plumbline plans shows which plans wait)',
      });
    }
    const now = new Date().toISOString();
    await this.store.putChangeSet({ ...changeSet, approvedBy: by, approvedAt: now });
    await this.store.appendHistory({ type: 'changeset-approved', unit: null, revision: changeSet.revision, planId: null, message: `change set ${id} approved by ${by}` });
    for (const plan of this.store.listPlans()) {
      if (plan.changeSet === id && plan.status === 'Pending') await this.approve(plan.id, `changeset:${id} (${by})`);
    }
    return this.getChangeSet(id);
  }

  async sync(options: { allowRewrite: boolean; unit?: string }): Promise<SyncAnswer> {
    if (options.unit && !this.definitions.has(options.unit) && !this.store.getUnit(options.unit)) {
      throw new NotFoundError('E_UNIT_NOT_FOUND', `no unit ${options.unit}`, { hint: 'list units with: plumbline status' });
    }
    const answer = await this.poll({ allowRewrite: options.allowRewrite });
    if (options.unit && answer.revision && this.sourceStatus.phase === 'Ready' && !answer.scheduled.includes(options.unit)) {
      if (!this.definitions.has(options.unit)) {
        throw new ConflictError('E_UNIT_NOT_PLANNABLE', `unit ${options.unit} has no valid definition at ${answer.revision.slice(0, 8)}`, {
          hint: 'fix the definition (plumbline validate) and push a commit',
        });
      }
      this.schedulePlan(options.unit, answer.revision);
      answer.scheduled.push(options.unit);
    }
    return answer;
  }

  /** `published`: only what is on disk, for answers that show a plan's state. */
  private requirePlan(id: string, view: 'latest' | 'published' = 'latest'): StoredPlan {
    const plan = view === 'published' ? this.store.publishedPlan(id) : this.store.getPlan(id);
    if (!plan) throw new NotFoundError('E_PLAN_NOT_FOUND', `no plan ${id}`, { hint: 'list plans with: plumbline plans' });
    return plan;
  }
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
  const why: Record<string, string> = {
    Superseded: `it was superseded (${plan.error?.message ?? 'a newer plan exists'}); review the newer plan with: plumbline plans --unit ${plan.unit}`,
    Rejected: `it was rejected${plan.decidedBy ? ` by ${plan.decidedBy}` : ''}`,
    Failed: `its apply failed: ${plan.error?.message ?? ''}`,
    Interrupted: 'its apply was interrupted; the unit has been planned again',
    NoChanges: 'it has no changes to apply',
    Applied: 'it is already applied',
  };
  return new ConflictError('E_PLAN_NOT_PENDING', `cannot ${verb} plan ${plan.id}: ${why[plan.status] ?? `it is ${plan.status}`}`, {
    hint: 'only a Pending plan can be approved or rejected',
  });
}

export { applyPolicy };
