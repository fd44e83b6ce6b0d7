import { asPlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RunRecord, Store, StoreTx } from '../store/types.ts';
import { setLongTimeout, type LongTimer } from '../timers.ts';
import { newRun } from './runs.ts';
import * as t from './transitions.ts';

/** The lease the daemon that polls the source and schedules runs holds. */
export const LEADER_LEASE = 'leader';

export interface MembershipOptions {
  store: Store;
  log: Logger;
  name: string;
  concurrency: number;
  /** A claim (the leader's, a run's) not renewed for this long is lapsed. */
  leaseTtlMs: number;
  /** This member became the leader, or stopped being it. */
  onLeadership(leader: boolean): void;
  /** The runs this process runs now: only their claims are renewed. */
  runningHere(): ReadonlySet<string>;
}

/**
 * One daemon among those sharing a store. Every `leaseTTL / 3` it says it is
 * alive, renews the claims of the runs it runs now, and takes or renews the
 * leader lease: a row with an expiry and a fencing token, not a session lock
 * (a dropped connection would release that silently). The leader also takes
 * up the runs of members that stopped renewing: an apply it finds cut off is
 * Interrupted and planned again, anything else goes back to the queue.
 * Alone on SQLite, a daemon is simply always the leader.
 */
export class Membership {
  private timer: LongTimer | undefined;
  private leader = false;
  private readonly startedAt = new Date().toISOString();
  private stopped = false;

  constructor(private readonly options: MembershipOptions) {}

  get name(): string {
    return this.options.name;
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** Until when a claim made now holds. */
  leaseUntil(): string {
    return new Date(Date.now() + this.options.leaseTtlMs).toISOString();
  }

  async start(): Promise<void> {
    await this.beat();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.clear();
    if (!this.leader) return;
    // Hand leadership over at once rather than after a lapsed lease.
    await this.options.store
      .write(async (tx) => {
        const lease = await tx.getLease(LEADER_LEASE);
        if (lease?.holder === this.options.name) await tx.putLease({ ...lease, expiresAt: new Date(0).toISOString() });
      })
      .catch((error) => this.options.log.warn({ err: asPlumblineError(error) }, 'could not hand the leader lease over'));
    this.setLeader(false);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setLongTimeout(() => {
      void this.beat()
        .catch((error) => this.options.log.warn({ err: asPlumblineError(error) }, 'heartbeat failed'))
        .finally(() => this.schedule());
    }, this.options.leaseTtlMs / 3);
  }

  /** Alive, claims renewed, leadership taken or kept, lapsed runs taken up. */
  private async beat(): Promise<void> {
    const { store, name, concurrency, log } = this.options;
    const now = new Date();
    const until = this.leaseUntil();
    let lapsed: RunRecord[] = [];
    const leader = await store.write(async (tx) => {
      await tx.putMember({ name, startedAt: this.startedAt, heartbeatAt: now.toISOString(), concurrency });
      // A claim of this member's that nothing here runs (a run that crashed on
      // a store error) is left to lapse: the leader then takes it up.
      const here = this.options.runningHere();
      for (const run of await tx.listRuns({ state: 'running' })) {
        if (run.claimedBy === name && here.has(run.id)) await tx.putRun({ ...run, leaseUntil: until });
      }
      const lease = await tx.getLease(LEADER_LEASE);
      const mine = lease?.holder === name && Date.parse(lease.expiresAt) > now.getTime();
      const free = !lease || Date.parse(lease.expiresAt) <= now.getTime();
      if (!mine && !free) return false;
      await tx.putLease({ name: LEADER_LEASE, holder: name, expiresAt: until, fence: mine ? lease.fence : (lease?.fence ?? 0) + 1 });
      lapsed = await takeUpLapsed(tx, now.toISOString(), name);
      return true;
    });
    if (lapsed.length > 0) log.warn({ runs: lapsed.map((r) => `${r.kind} ${r.unit} (${r.claimedBy})`) }, 'runs of a member that stopped renewing its claims were taken up');
    this.setLeader(leader);
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.options.log.info({ member: this.options.name }, leader ? 'this member leads: it polls the source and schedules runs' : 'this member no longer leads');
    this.options.onLeadership(leader);
  }
}

/**
 * Runs whose worker stopped renewing its claim: an apply under way is
 * Interrupted (the unit planned again, never applied blindly); a plan or a
 * check goes back to the queue for any member to take.
 */
async function takeUpLapsed(tx: StoreTx, now: string, by: string): Promise<RunRecord[]> {
  const lapsed = await tx.lapsedRuns(now);
  for (const run of lapsed) {
    const why = `its worker ${run.claimedBy ?? '?'} stopped renewing its claim; taken up by ${by}`;
    if (run.kind === 'apply' && run.planId) {
      const plan = await tx.getPlan(run.planId);
      if (plan?.status === 'Applying') {
        await t.interrupted(tx, plan, `apply cut off: ${why}`);
        await tx.deleteRun(run.id);
        await t.enqueue(tx, newRun('plan', plan.unit, plan.revision, { reason: 'its apply was interrupted', ...(plan.changeSet ? { changeSet: plan.changeSet } : {}) }), { replaces: ['plan', 'drift'] });
        continue;
      }
    }
    await t.record(tx, { type: 'interrupted', unit: run.unit, revision: run.revision, planId: run.planId ?? null, message: `${run.kind} run cut off: ${why}; it runs again` });
    const { claimedBy: _claimedBy, leaseUntil: _leaseUntil, ...queued } = run;
    await tx.putRun({ ...queued, state: 'queued' });
  }
  return lapsed;
}
