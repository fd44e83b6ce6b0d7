import type { StoredToken } from '../auth/types.ts';
import type { UnitReads } from '../definitions/reads.ts';
import type { ChangeSet, HistoryEvent, PlanRecord, PlanStatus, SourceStatus, UnitStatus } from '../model.ts';

/**
 * What the engine keeps, behind one typed interface with two engines: SQLite
 * embedded (the default, `<stateDir>/plumbline.db`) and PostgreSQL
 * (`store.url: postgres://...`). Every state change is one transaction: a
 * unit's phase, its plan's status and the history event that explains them
 * are written together or not at all. Nothing is held in memory wholesale:
 * every read is a query on an index. Every record is masked before it is
 * written: the store never holds a secret.
 */
export interface Store {
  /** Which engine, for logs and `status`. */
  readonly engine: 'sqlite' | 'postgres';

  /**
   * Run in one transaction; everything `fn` writes lands together or not at
   * all. Writers are serialized (never call `write` from inside `fn`). A
   * database failure rejects typed: `E_STORE_WRITE` (disk full, server gone:
   * transient, nothing kept), `E_STORE_DAMAGED`; `fn`'s own errors pass
   * through unchanged, after the rollback.
   */
  write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;

  // Reads, each a query (outside any transaction: the last committed state).
  getUnit(name: string): Promise<UnitStatus | undefined>;
  /** Every unit, by name. */
  listUnits(): Promise<UnitStatus[]>;
  getPlan(id: string): Promise<StoredPlan | undefined>;
  /**
   * Newest first (createdAt, then id, both descending). Without `limit`,
   * every match: narrow by unit, status or change set (each an index).
   */
  listPlans(query?: PlanQuery): Promise<StoredPlan[]>;
  getChangeSet(id: string): Promise<ChangeSet | undefined>;
  /** Newest first; `limit` defaults to 200; `before` pages backwards from a change set id. */
  listChangeSets(query?: { limit?: number; before?: string }): Promise<ChangeSet[]>;
  /** Change sets whose id starts with `prefix` (at most `limit`). */
  findChangeSets(prefix: string, limit?: number): Promise<ChangeSet[]>;
  /** Newest first; `limit` defaults to 200; `before` pages backwards by sequence number. */
  listHistory(query?: HistoryQuery): Promise<HistoryEvent[]>;
  getSource(): Promise<SourceStatus | undefined>;
  getReads(unit: string): Promise<UnitReads | undefined>;
  /** What every unit reads, in one query (a reconcile looks at all of them). */
  listReads(): Promise<UnitReads[]>;
  /** Queued and running runs, oldest first. */
  listRuns(query?: { unit?: string; state?: RunState }): Promise<RunRecord[]>;
  /** A unit's applied outputs, values in clear (dependants need them). */
  getOutputs(unit: string): Promise<Record<string, StoredOutput> | undefined>;
  /** The files a plan left for its apply (binary plan, documents), by name. */
  getArtifacts(planId: string): Promise<Map<string, Buffer>>;
  listMembers(): Promise<MemberRecord[]>;
  /** The leader lease as it stands (expired or not). */
  leader(): Promise<LeaseRecord | undefined>;
  /**
   * Call `onQueued` when another daemon on the same database queued runs
   * (PostgreSQL LISTEN/NOTIFY; payloads carry ids only). A no-op where one
   * daemon is alone (SQLite). Returns the function that stops listening.
   */
  subscribe(onQueued: () => void): Promise<() => Promise<void>>;

  /** The API token with this hash (revoked and expired ones included: the caller decides). */
  getTokenByHash(hash: string): Promise<StoredToken | undefined>;
  /** Every API token, by name. */
  listTokens(): Promise<StoredToken[]>;
  /** What the metrics count, each by one query (see StoreCounts). */
  counts(): Promise<StoreCounts>;

  /**
   * Retention: delete plans older than `plansBefore` and history events older
   * than `historyBefore`, except each unit's last applied plan (its newest
   * Applied and its newest NoChanges plan), the plan a unit's status points
   * at, any plan that may still be applied (Pending, Approved, Applying), and
   * the events of kept plans; and change sets older than `plansBefore` that no
   * plan belongs to any more. In short batches, each its own transaction.
   * Returns the run ids of the deleted plans (their folders go too).
   */
  prune(options: { plansBefore: Date; historyBefore: Date }): Promise<{ plans: number; events: number; changeSets: number; runIds: string[] }>;

  /**
   * A consistent copy of the whole store into `file` while the daemon runs:
   * SQLite's online backup (a database file); for PostgreSQL, `pg_dump`'s
   * custom format.
   */
  backup(file: string): Promise<void>;

  /** Told of every history event once it is committed (notifications, live UI). */
  onHistory: ((event: HistoryEvent) => void) | undefined;

  /** The store of an older version imported at open: where it went, and the records that did not parse. */
  readonly imported?: { damaged: string[]; movedTo: string } | undefined;

  close(): Promise<void>;
}

/** Inside a transaction: the same reads (seeing this transaction's writes), and the writes. */
export interface StoreTx {
  getUnit(name: string): Promise<UnitStatus | undefined>;
  getPlan(id: string): Promise<StoredPlan | undefined>;
  listPlans(query?: PlanQuery): Promise<StoredPlan[]>;
  getChangeSet(id: string): Promise<ChangeSet | undefined>;

  putUnit(status: UnitStatus): Promise<UnitStatus>;
  /** A pruned unit: its record and outputs go; its plans and history stay. */
  deleteUnit(name: string): Promise<void>;
  /** Outputs no dependant should receive any more. */
  deleteOutputs(unit: string): Promise<void>;
  putPlan(plan: StoredPlan): Promise<StoredPlan>;
  /** A plan and its artifacts go (a preview whose ref was deleted or superseded). */
  deletePlan(id: string): Promise<void>;
  putChangeSet(changeSet: ChangeSet): Promise<ChangeSet>;
  /** The sequence number and time are the store's. */
  appendHistory(event: Omit<HistoryEvent, 'seq' | 'at'> & { at?: string }): Promise<HistoryEvent>;
  getSource(): Promise<SourceStatus | undefined>;
  putSource(status: SourceStatus): Promise<void>;
  putReads(reads: UnitReads): Promise<void>;

  getToken(name: string): Promise<StoredToken | undefined>;
  /** Create or replace the token of this name (its hash is unique among all tokens). */
  putToken(token: StoredToken): Promise<void>;

  listRuns(query?: { unit?: string; state?: RunState }): Promise<RunRecord[]>;
  /** Queue a run (its id is the caller's). */
  putRun(run: RunRecord): Promise<void>;
  deleteRun(id: string): Promise<void>;
  /** Runs whose claim has lapsed at `now` (their worker is gone or paused). */
  lapsedRuns(now: string): Promise<RunRecord[]>;

  getOutputs(unit: string): Promise<Record<string, StoredOutput> | undefined>;
  putOutputs(unit: string, outputs: Record<string, StoredOutput>): Promise<void>;
  putArtifacts(planId: string, files: Map<string, Buffer>): Promise<void>;

  putMember(member: MemberRecord): Promise<void>;
  getLease(name: string): Promise<LeaseRecord | undefined>;
  putLease(lease: LeaseRecord): Promise<void>;
}

/** An output as the upstream's apply left it. */
export interface StoredOutput {
  value: unknown;
  sensitive: boolean;
}

/** A daemon sharing the store, and when it last said it was alive. */
export interface MemberRecord {
  name: string;
  startedAt: string;
  heartbeatAt: string;
  concurrency: number;
}

/** A lease (the leader's): held by one member until it expires; the fencing token grows with each new holder. */
export interface LeaseRecord {
  name: string;
  holder: string;
  expiresAt: string;
  fence: number;
}

/**
 * The run queue: what the engine will do next, written in the same
 * transaction as the state change that asks for it (a commit reconciled and
 * its units' plans; an approval and its apply), so a crash never loses work.
 * A run is claimed by one worker; its fencing token increases with each claim
 * and every state write of the run checks it.
 */
export type RunKind = 'plan' | 'drift' | 'destroy' | 'apply';
export type RunState = 'queued' | 'running';

export interface RunRecord {
  id: string;
  unit: string;
  kind: RunKind;
  revision: string;
  /** apply: the plan to apply. */
  planId?: string;
  /** plan: the change set it belongs to. */
  changeSet?: string;
  /** Why it was queued when not by a new commit (an upstream's outputs changed, a retry, a sync). */
  reason?: string;
  /** Not before this time (a retry's backoff). */
  notBefore: string;
  state: RunState;
  /** The worker running it, and until when its claim holds. */
  claimedBy?: string;
  leaseUntil?: string;
  /** Increases with every claim of this run: stale writers are refused. */
  fence: number;
  /** Retries so far (backoff grows with it). */
  attempt: number;
  createdAt: string;
}

export interface HistoryQuery {
  unit?: string;
  /** Only decisions: the events that name the token that took them (`actor`). */
  decisions?: boolean;
  limit?: number;
  before?: number;
}

/** Counts for the metrics. */
export interface StoreCounts {
  /** Units by phase (phases without units are absent). */
  unitsByPhase: Record<string, number>;
  pendingPlans: number;
  runs: Record<RunState, number>;
}

export interface PlanQuery {
  unit?: string;
  status?: readonly PlanStatus[];
  changeSet?: string;
  purpose?: NonNullable<PlanRecord['purpose']>;
  /** Plans whose run folder is one of these. */
  runIds?: readonly string[];
  limit?: number;
  /** Page backwards: plans older than this plan id (in the newest-first order). */
  before?: string;
}

/** A plan as stored: the API record plus where its run folder is. */
export interface StoredPlan extends PlanRecord {
  runId: string;
  /** What the unit manages once this plan is applied (resource addresses, hosts). */
  managed?: string[];
}
