import type { StoredToken } from '../../auth/types.ts';
import type { UnitReads } from '../../definitions/reads.ts';
import type { ChangeSet, HistoryEvent, SourceStatus, UnitStatus } from '../../model.ts';
import type { RunRecord, StoreTx, StoredPlan } from '../types.ts';
import { StoreReads } from './reads.ts';
import { changeSetRow, historyRow, mask, planRow, readsRow, runRow, sourceRow, tokenRow, unitRow } from './rows.ts';

/**
 * The writes of one transaction. Its reads see its own writes. History events
 * are collected to be announced once the transaction has committed.
 */
export class SqlTx extends StoreReads implements StoreTx {
  readonly appended: HistoryEvent[] = [];

  async putUnit(status: UnitStatus): Promise<UnitStatus> {
    const masked = mask(status);
    const row = unitRow(masked);
    await this.db
      .insertInto('units')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ plan_id: row.plan_id, phase: row.phase, record: row.record }))
      .execute();
    return masked;
  }

  async deleteUnit(name: string): Promise<void> {
    await this.db.deleteFrom('units').where('name', '=', name).execute();
  }

  async putPlan(plan: StoredPlan): Promise<StoredPlan> {
    const masked = mask(plan);
    const { id, ...columns } = planRow(masked);
    await this.db
      .insertInto('plans')
      .values({ id, ...columns })
      .onConflict((oc) => oc.column('id').doUpdateSet(columns))
      .execute();
    return masked;
  }

  async putChangeSet(changeSet: ChangeSet): Promise<ChangeSet> {
    const masked = mask(changeSet);
    const { id, ...columns } = changeSetRow(masked);
    await this.db
      .insertInto('change_sets')
      .values({ id, ...columns })
      .onConflict((oc) => oc.column('id').doUpdateSet(columns))
      .execute();
    return masked;
  }

  async appendHistory(event: Omit<HistoryEvent, 'seq' | 'at'> & { at?: string }): Promise<HistoryEvent> {
    const { at, ...rest } = event;
    const masked = mask({ at: at ?? new Date().toISOString(), ...rest });
    const { seq } = await this.db.insertInto('history').values(historyRow(masked)).returning('seq').executeTakeFirstOrThrow();
    const stored: HistoryEvent = { seq: Number(seq), ...masked };
    this.appended.push(stored);
    return stored;
  }

  async putSource(status: SourceStatus): Promise<void> {
    const row = sourceRow(mask(status));
    await this.db
      .insertInto('source')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ record: row.record }))
      .execute();
  }

  async putRun(run: RunRecord): Promise<void> {
    const row = runRow(run);
    await this.db
      .insertInto('runs')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet({ state: row.state, record: row.record }))
      .execute();
  }

  async deleteRun(id: string): Promise<void> {
    await this.db.deleteFrom('runs').where('id', '=', id).execute();
  }

  async putToken(token: StoredToken): Promise<void> {
    const row = tokenRow(token);
    await this.db
      .insertInto('tokens')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ hash: row.hash, record: row.record }))
      .execute();
  }

  async putReads(reads: UnitReads): Promise<void> {
    const row = readsRow(mask(reads));
    await this.db
      .insertInto('unit_reads')
      .values(row)
      .onConflict((oc) => oc.column('unit').doUpdateSet({ record: row.record }))
      .execute();
  }
}
