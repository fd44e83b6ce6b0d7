import type { Sealer } from '../sealing.ts';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { UnitReads } from '../../definitions/reads.ts';
import { PlumblineError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ChangeSet, HistoryEvent, SourceStatus, UnitStatus } from '../../model.ts';
import type { StoredToken } from '../../auth/types.ts';
import type { HistoryQuery, LeaseRecord, MemberRecord, PlanQuery, RunRecord, RunState, Store, StoreCounts, StoredOutput, StoreTx, StoredPlan } from '../types.ts';
import { RUNS_CHANNEL } from './tx.ts';
import type { SqlEngine } from './engine.ts';
import { storeReadError, storeWriteError } from './errors.ts';
import { pruneStore, type PruneResult } from './prune.ts';
import { StoreReads } from './reads.ts';
import { SqlTx } from './tx.ts';
import type { JsonStoreImport } from './import-json.ts';

/**
 * The store on a SQL engine. Reads are queries on the last committed state;
 * `write` is one transaction. A database failure comes out typed: a write
 * that could not be made (disk full, server gone) is `E_STORE_WRITE`, retried
 * as transient, and nothing of it was kept.
 */
export class SqlStore implements Store {
  readonly engine: 'sqlite' | 'postgres';
  onHistory: ((event: HistoryEvent) => void) | undefined;
  /** A JSON-file store of an older version imported when this store was opened. */
  imported: JsonStoreImport | undefined;
  private readonly reads: StoreReads;
  /** Set while a write's function runs: a nested write would wait for itself. */
  private readonly writing = new AsyncLocalStorage<true>();

  constructor(
    private readonly sql: SqlEngine,
    private readonly log: Logger,
    private readonly sealer: Sealer,
  ) {
    this.engine = sql.kind;
    this.reads = new StoreReads(sql.db, sealer);
  }

  /**
   * The full integrity check of a large SQLite file runs after it opened:
   * this settles with its finding (E_STORE_DAMAGED), or undefined. Never rejects.
   */
  get integrity(): Promise<PlumblineError | undefined> {
    return this.sql.integrity;
  }

  /** Where the data is: the database file, or the URL without its password. */
  get location(): string {
    return this.sql.location;
  }

  /**
   * Runs `fn` in one transaction. Writers are serialized: a `write` called
   * from inside `fn` would wait for itself, so it fails at once instead.
   */
  async write<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (this.writing.getStore()) {
      throw new PlumblineError('E_STORE_NESTED_WRITE', 'store.write was called from inside another store.write', {
        hint: 'this is a bug in Plumbline: write through the transaction the outer write gave (it would wait for itself forever)',
      });
    }
    let tx: SqlTx | undefined;
    let result: T;
    try {
      result = await this.sql.transaction((db) => {
        tx = new SqlTx(db, this.sql.kind, this.sealer);
        return this.writing.run(true, () => fn(tx!));
      });
    } catch (error) {
      throw storeWriteError(error, this.sql.location) ?? error;
    }
    for (const event of tx?.appended ?? []) this.announce(event);
    return result;
  }

  private announce(event: HistoryEvent): void {
    try {
      this.onHistory?.(event);
    } catch (error) {
      // The event is committed; a listener's failure must not make the write look failed.
      this.log.warn({ seq: event.seq, err: error }, 'a history listener failed');
    }
  }

  private async read<T>(fn: (reads: StoreReads) => Promise<T>): Promise<T> {
    try {
      return await fn(this.reads);
    } catch (error) {
      throw storeReadError(error, this.sql.location) ?? error;
    }
  }

  getUnit(name: string): Promise<UnitStatus | undefined> {
    return this.read((r) => r.getUnit(name));
  }

  listUnits(): Promise<UnitStatus[]> {
    return this.read((r) => r.listUnits());
  }

  getPlan(id: string): Promise<StoredPlan | undefined> {
    return this.read((r) => r.getPlan(id));
  }

  listPlans(query?: PlanQuery): Promise<StoredPlan[]> {
    return this.read((r) => r.listPlans(query));
  }

  getChangeSet(id: string): Promise<ChangeSet | undefined> {
    return this.read((r) => r.getChangeSet(id));
  }

  listChangeSets(query?: { limit?: number; before?: string }): Promise<ChangeSet[]> {
    return this.read((r) => r.listChangeSets(query));
  }

  findChangeSets(prefix: string, limit?: number): Promise<ChangeSet[]> {
    return this.read((r) => r.findChangeSets(prefix, limit));
  }

  listHistory(query?: HistoryQuery): Promise<HistoryEvent[]> {
    return this.read((r) => r.listHistory(query));
  }

  getTokenByHash(hash: string): Promise<StoredToken | undefined> {
    return this.read((r) => r.getTokenByHash(hash));
  }

  listTokens(): Promise<StoredToken[]> {
    return this.read((r) => r.listTokens());
  }

  counts(): Promise<StoreCounts> {
    return this.read((r) => r.counts());
  }

  getSource(): Promise<SourceStatus | undefined> {
    return this.read((r) => r.getSource());
  }

  getReads(unit: string): Promise<UnitReads | undefined> {
    return this.read((r) => r.getReads(unit));
  }

  listReads(): Promise<UnitReads[]> {
    return this.read((r) => r.listReads());
  }

  listRuns(query?: { unit?: string; state?: RunState }): Promise<RunRecord[]> {
    return this.read((r) => r.listRuns(query));
  }

  getOutputs(unit: string): Promise<Record<string, StoredOutput> | undefined> {
    return this.read((r) => r.getOutputs(unit));
  }

  getArtifacts(planId: string): Promise<Map<string, Buffer>> {
    return this.read((r) => r.getArtifacts(planId));
  }

  listMembers(): Promise<MemberRecord[]> {
    return this.read((r) => r.listMembers());
  }

  leader(): Promise<LeaseRecord | undefined> {
    return this.read((r) => r.getLease('leader'));
  }

  subscribe(onQueued: () => void): Promise<() => Promise<void>> {
    return this.sql.listen ? this.sql.listen(RUNS_CHANNEL, onQueued) : Promise.resolve(async () => undefined);
  }

  async prune(options: { plansBefore: Date; historyBefore: Date }): Promise<PruneResult> {
    try {
      return await pruneStore(this.sql, options);
    } catch (error) {
      throw storeWriteError(error, this.sql.location) ?? error;
    }
  }

  async backup(file: string): Promise<void> {
    await this.sql.backup(file);
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}
