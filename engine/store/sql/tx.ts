import { sealText, type Sealer } from '../sealing.ts';
import type { StoredToken } from '../../auth/types.ts';
import type { UnitReads } from '../../definitions/reads.ts';
import { type Kysely, sql } from './kysely.ts';
import type { EngineKind } from './migrations.ts';
import type { Database } from './schema.ts';
import type { ChangeSet, HistoryEvent, SourceStatus, UnitStatus } from '../../model.ts';
import type { LeaseRecord, MemberRecord, RunRecord, StoredOutput, StoreTx, StoredPlan } from '../types.ts';
import { StoreReads } from './reads.ts';
import { changeSetRow, historyRow, mask, planRow, readsRow, runRow, sourceRow, tokenRow, unitRow } from './rows.ts';

/**
 * The writes of one transaction. Its reads see its own writes. History events
 * are collected to be announced once the transaction has committed.
 */
/** The channel daemons sharing a PostgreSQL store are told on when runs are queued. */
export const RUNS_CHANNEL = 'plumbline_runs';

export class SqlTx extends StoreReads implements StoreTx {
  readonly appended: HistoryEvent[] = [];
  private notified = false;

  constructor(
    db: Kysely<Database>,
    private readonly engine: EngineKind,
    sealer: Sealer,
  ) {
    super(db, sealer);
  }

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
    await this.deleteOutputs(name);
  }

  async deleteOutputs(unit: string): Promise<void> {
    await this.db.deleteFrom('unit_outputs').where('unit', '=', unit).execute();
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

  async deletePlan(id: string): Promise<void> {
    await this.db.deleteFrom('plan_artifacts').where('plan_id', '=', id).execute();
    await this.db.deleteFrom('plans').where('id', '=', id).execute();
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
      .onConflict((oc) => oc.column('id').doUpdateSet({ state: row.state, record: row.record, claimed_by: row.claimed_by ?? null, lease_until: row.lease_until ?? null }))
      .execute();
    // Other daemons wake on commit (PostgreSQL delivers a NOTIFY when its transaction commits).
    if (run.state === 'queued' && this.engine === 'postgres' && !this.notified) {
      this.notified = true;
      await sql`select pg_notify(${RUNS_CHANNEL}, '')`.execute(this.db);
    }
  }

  async deleteRun(id: string): Promise<void> {
    await this.db.deleteFrom('runs').where('id', '=', id).execute();
  }

  async putOutputs(unit: string, outputs: Record<string, StoredOutput>): Promise<void> {
    // Sealed whole: a dependant needs the real values, sensitive ones included.
    const record = sealText(this.sealer, JSON.stringify(outputs));
    await this.db
      .insertInto('unit_outputs')
      .values({ unit, record })
      .onConflict((oc) => oc.column('unit').doUpdateSet({ record }))
      .execute();
  }

  async putArtifacts(planId: string, files: Map<string, Buffer>): Promise<void> {
    await this.db.deleteFrom('plan_artifacts').where('plan_id', '=', planId).execute();
    for (const [name, content] of files) await this.db.insertInto('plan_artifacts').values({ plan_id: planId, name, content: this.sealer.seal(content) }).execute();
  }

  async putMember(member: MemberRecord): Promise<void> {
    const record = JSON.stringify(member);
    await this.db
      .insertInto('members')
      .values({ name: member.name, heartbeat_at: member.heartbeatAt, record })
      .onConflict((oc) => oc.column('name').doUpdateSet({ heartbeat_at: member.heartbeatAt, record }))
      .execute();
  }

  async putLease(lease: LeaseRecord): Promise<void> {
    const row = { name: lease.name, holder: lease.holder, expires_at: lease.expiresAt, fence: lease.fence };
    await this.db
      .insertInto('leases')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ holder: row.holder, expires_at: row.expires_at, fence: row.fence }))
      .execute();
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
