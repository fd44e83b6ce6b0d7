import type { UnitDefinition } from '../definitions/types.ts';
import { asPlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Mutex } from '../mutex.ts';
import type { RunRecord, Store, StoreTx } from '../store/types.ts';
import { setLongTimeout, type LongTimer } from '../timers.ts';
import { describeReadiness, readiness, type Readiness } from './dependencies.ts';
import { PLANNING_KINDS } from './runs.ts';

export interface SchedulerHost {
  store: Store;
  log: Logger;
  /** How many runs at once on this worker. */
  concurrency: number;
  /** This worker's name (claims name it). */
  member: string;
  /** The current definition of a unit, if the repository has one. */
  definition(unit: string): UnitDefinition | undefined;
  /** Until when a claim made now holds (renewed by the heartbeat). */
  leaseUntil(): string;
  /** Bring the definitions up to the store's head before looking at the queue. */
  beforePump?(): Promise<void>;
  /**
   * Written in the transaction that claims `run`: a plan's start (the unit
   * Planning) lands with its claim instead of in a transaction of its own.
   * Returns the definition whose start it recorded, given to `execute`.
   */
  claiming?(tx: StoreTx, run: RunRecord): Promise<UnitDefinition | undefined>;
  /**
   * Run one claimed run to its end; its last transition removes it from the
   * queue. It may hand its slot over to a run of the same unit it claimed
   * (see `handOver`), which then runs before the slot is free. `startedAs`:
   * the definition whose start `claiming` recorded.
   */
  execute(run: RunRecord, signal: AbortSignal, startedAs?: UnitDefinition): Promise<void>;
  /** A queued plan waits for its dependencies: show it on the unit. */
  waiting(run: RunRecord, readiness: Readiness): Promise<void>;
  /** Nothing runs here any more (after a look at the queue started nothing): housekeeping may go on. */
  quiet?(): void;
}

interface Active {
  /** What runs in this slot now (an apply its plan handed the slot over to). */
  run: RunRecord;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Takes runs from the queue in the store and runs them: at most
 * `concurrency` at once, never two of one unit, a plan only when its
 * dependencies are applied at their newest commit, a retry only once its
 * backoff has passed. The queue is the truth: this class holds only what runs
 * now, so a crash loses nothing but the runs in flight, which the next start
 * finds claimed and takes up again.
 */
/** How soon the queue is looked at again after a look failed. */
const PUMP_RETRY_MS = 2_000;

export class Scheduler {
  private readonly active = new Map<string, Active>();
  private readonly pumpLock = new Mutex();
  private pending = false;
  private timer: LongTimer | undefined;
  private stopped = false;

  constructor(private readonly host: SchedulerHost) {}

  /** Look at the queue soon (calls coalesce). */
  wake(): void {
    if (this.stopped || this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      void this.pump().catch((error) => {
        // The store is unreachable (a database restarting): look again soon,
        // or queued runs would wait for an event that may never come.
        this.host.log.error({ err: asPlumblineError(error), retryInMs: PUMP_RETRY_MS }, 'scheduling failed');
        if (!this.stopped) setTimeout(() => this.wake(), PUMP_RETRY_MS).unref();
      });
    });
  }

  /** The ids of the runs in flight here. */
  runningIds(): ReadonlySet<string> {
    return new Set([...this.active.values()].map((a) => a.run.id));
  }

  /** Units with a run in flight here. */
  runningUnits(): ReadonlySet<string> {
    return new Set(this.active.keys());
  }

  /**
   * Cancel the plan (or drift check) running for `unit`; an apply is never cut
   * off. With `keep`, a run of that revision goes on: it is the run that the
   * newer commit just queued, which may have started already.
   */
  cancel(unit: string, why: string, keep?: { revision: string }): void {
    const active = this.active.get(unit);
    if (!active || !PLANNING_KINDS.includes(active.run.kind)) return;
    if (keep && active.run.revision === keep.revision) return;
    active.abort.abort(why);
  }

  /**
   * The slot of `from` now runs `to`, a run of the same unit that `from`
   * claimed (its apply): its claim is renewed from here on, and as an apply it
   * is never cancelled.
   */
  handOver(from: RunRecord, to: RunRecord): void {
    const active = this.active.get(from.unit);
    if (active?.run.id === from.id && to.unit === from.unit) active.run = to;
  }

  /** Stop taking runs, cancel plans, wait for applies to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.clear();
    for (const active of this.active.values()) if (PLANNING_KINDS.includes(active.run.kind)) active.abort.abort('daemon stopping');
    await this.pumpLock.run(async () => undefined);
    await Promise.all([...this.active.values()].map((a) => a.done));
  }

  async pump(): Promise<void> {
    await this.pumpLock.run(async () => {
      if (this.stopped) return;
      await this.host.beforePump?.();
      const runs = await this.host.store.listRuns();
      const units = new Map((await this.host.store.listUnits()).map((u) => [u.name, u]));
      const desired = newestPlannedRevisions(runs);
      const now = Date.now();
      let nextWake: number | undefined;
      for (const run of runs) {
        if (this.active.size >= this.host.concurrency) break;
        if (run.state !== 'queued' || this.active.has(run.unit)) continue;
        const due = Date.parse(run.notBefore);
        if (due > now) {
          nextWake = Math.min(nextWake ?? due, due);
          continue;
        }
        if (run.kind === 'plan') {
          const def = this.host.definition(run.unit);
          // Not (yet) a unit here: the definitions at the store's head are being read; never drop another member's work.
          if (!def) continue;
          {
            const ready = readiness(def, (n) => units.get(n), (n) => this.host.definition(n) !== undefined, (n) => desired.get(n));
            if (!ready.ready) {
              // Said once: a unit already showing this wait is not written again on every look.
              const shown = units.get(run.unit);
              const phase = ready.blockedBy.length > 0 ? 'Blocked' : 'Pending';
              if (shown?.phase !== phase || shown.message !== describeReadiness(ready)) await this.host.waiting(run, ready);
              continue;
            }
          }
        }
        const claimed = await this.claim(run);
        if (claimed) this.start(claimed.run, claimed.startedAs);
      }
      this.timer?.clear();
      this.timer = nextWake === undefined ? undefined : setLongTimeout(() => this.wake(), Math.max(0, nextWake - Date.now()));
      if (this.active.size === 0 && !this.stopped) this.host.quiet?.();
    });
  }

  private async claim(run: RunRecord): Promise<{ run: RunRecord; startedAs: UnitDefinition | undefined } | undefined> {
    return this.host.store.write(async (tx) => {
      const current = (await tx.listRuns({ unit: run.unit })).find((r) => r.id === run.id);
      // Gone (superseded by a newer commit meanwhile) or taken by another worker.
      if (!current || current.state !== 'queued') return undefined;
      const claimed: RunRecord = { ...current, state: 'running', claimedBy: this.host.member, leaseUntil: this.host.leaseUntil(), fence: current.fence + 1 };
      await tx.putRun(claimed);
      return { run: claimed, startedAs: await this.host.claiming?.(tx, claimed) };
    });
  }

  private start(run: RunRecord, startedAs: UnitDefinition | undefined): void {
    const abort = new AbortController();
    const active: Active = { run, abort, done: Promise.resolve() };
    active.done = this.host
      .execute(run, abort.signal, startedAs)
      .catch((error) => this.host.log.error({ err: asPlumblineError(error), unit: active.run.unit, kind: active.run.kind }, 'run crashed'))
      .finally(() => {
        if (this.active.get(run.unit) === active) this.active.delete(run.unit);
        this.wake();
      });
    this.active.set(run.unit, active);
  }
}

/** Per unit, the revision of its newest plan queued or running: applied at that one, it is settled. */
export function newestPlannedRevisions(runs: readonly RunRecord[]): Map<string, string> {
  const newest = new Map<string, RunRecord>();
  for (const run of runs) {
    if (run.kind !== 'plan' && run.kind !== 'destroy') continue;
    const seen = newest.get(run.unit);
    if (!seen || seen.createdAt <= run.createdAt) newest.set(run.unit, run);
  }
  return new Map([...newest].map(([unit, run]) => [unit, run.revision]));
}

