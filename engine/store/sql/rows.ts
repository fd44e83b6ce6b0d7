import type { Insertable } from './kysely.ts';
import type { UnitReads } from '../../definitions/reads.ts';
import type { ChangeSet, HistoryEvent, SourceStatus, UnitStatus } from '../../model.ts';
import { RECORD_IDENTIFIERS, secrets } from '../../secrets.ts';
import type { RunRecord, StoredPlan } from '../types.ts';
import type { ApiToken, StoredToken } from '../../auth/types.ts';
import type { ChangeSetsTable, HistoryTable, PlansTable, RunsTable, TokensTable, UnitReadsTable, UnitsTable } from './schema.ts';

/**
 * Records to rows and back. Every record is masked here, on its way in: the
 * store never holds a secret. The row's indexed columns are taken from the
 * masked record, so a row and its JSON always agree.
 */

export function mask<T>(record: T): T {
  return secrets.maskDeep(record, RECORD_IDENTIFIERS);
}

export function unitRow(status: UnitStatus): Insertable<UnitsTable> {
  return { name: status.name, plan_id: status.planId, phase: status.phase, record: JSON.stringify(status) };
}

export function planRow(plan: StoredPlan): Insertable<PlansTable> {
  return {
    id: plan.id,
    unit: plan.unit,
    status: plan.status,
    change_set: plan.changeSet ?? null,
    purpose: plan.purpose ?? 'change',
    created_at: plan.createdAt,
    run_id: plan.runId,
    record: JSON.stringify(plan),
  };
}

export function changeSetRow(changeSet: ChangeSet): Insertable<ChangeSetsTable> {
  return { id: changeSet.id, created_at: changeSet.createdAt, record: JSON.stringify(changeSet) };
}

/** `seq` is the database's unless given (an import keeps the numbers it had). */
export function historyRow(event: Omit<HistoryEvent, 'seq'> & { seq?: number }): Insertable<HistoryTable> {
  const { seq, ...rest } = event;
  return { ...(seq === undefined ? {} : { seq }), at: rest.at, unit: rest.unit, plan_id: rest.planId, actor: rest.actor ?? null, record: JSON.stringify(rest) };
}

/**
 * The hash goes in its own column and is never masked: a short secret that
 * happened to occur in its hex digits would otherwise break the lookup.
 */
export function tokenRow(token: StoredToken): Insertable<TokensTable> {
  const { hash, ...record } = token;
  return { name: token.name, hash, record: JSON.stringify(mask(record)) };
}

export function fromTokenRow(row: { hash: string; record: string }): StoredToken {
  return { ...(JSON.parse(row.record) as ApiToken), hash: row.hash };
}

export function readsRow(reads: UnitReads): Insertable<UnitReadsTable> {
  return { unit: reads.unit, record: JSON.stringify(reads) };
}

export function runRow(run: RunRecord): Insertable<RunsTable> {
  return { id: run.id, unit: run.unit, state: run.state, created_at: run.createdAt, record: JSON.stringify(run), claimed_by: run.claimedBy ?? null, lease_until: run.leaseUntil ?? null };
}

export function sourceRow(status: SourceStatus): { id: number; record: string } {
  return { id: 1, record: JSON.stringify(status) };
}

export function fromRecord<T>(row: { record: string }): T {
  return JSON.parse(row.record) as T;
}

/** A plan as stored. Records written before `targets` had its name say `limitHosts`: they read the same. */
export function planFromRow(row: { record: string }): StoredPlan {
  const { limitHosts, ...plan } = fromRecord<StoredPlan & { limitHosts?: string[] }>(row);
  return limitHosts !== undefined && plan.targets === undefined ? { ...plan, targets: limitHosts } : plan;
}

/** PostgreSQL returns a bigint as a string. */
export function fromHistoryRow(row: { seq: number | string | bigint; record: string }): HistoryEvent {
  return { seq: Number(row.seq), ...(JSON.parse(row.record) as Omit<HistoryEvent, 'seq'>) };
}
