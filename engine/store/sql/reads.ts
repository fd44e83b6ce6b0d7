import { openText, type Sealer } from '../sealing.ts';
import type { Kysely } from './kysely.ts';
import type { UnitReads } from '../../definitions/reads.ts';
import { NotFoundError } from '../../errors.ts';
import type { ChangeSet, HistoryEvent, SourceStatus, UnitStatus } from '../../model.ts';
import type { StoredToken } from '../../auth/types.ts';
import type { HistoryQuery, LeaseRecord, MemberRecord, PlanQuery, RunRecord, RunState, StoreCounts, StoredOutput, StoredPlan } from '../types.ts';
import { fromHistoryRow, fromRecord, fromTokenRow, planFromRow } from './rows.ts';
import type { Database } from './schema.ts';

/** `listHistory` and `listChangeSets` without a limit: a page, never the whole table. */
export const DEFAULT_PAGE = 200;

/**
 * Every read of the store, each one query on an index. The same code reads
 * the last committed state (on the store's read connection) and, inside a
 * write, that transaction's own writes (on its connection).
 */
export class StoreReads {
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly sealer: Sealer,
  ) {}

  async getUnit(name: string): Promise<UnitStatus | undefined> {
    const row = await this.db.selectFrom('units').select('record').where('name', '=', name).executeTakeFirst();
    return row && fromRecord<UnitStatus>(row);
  }

  async listUnits(): Promise<UnitStatus[]> {
    const rows = await this.db.selectFrom('units').select('record').orderBy('name').execute();
    return rows.map((r) => fromRecord<UnitStatus>(r));
  }

  async getPlan(id: string): Promise<StoredPlan | undefined> {
    const row = await this.db.selectFrom('plans').select('record').where('id', '=', id).executeTakeFirst();
    return row && planFromRow(row);
  }

  /** Newest first (createdAt, then id). Without `limit`, every match: filter by unit, status or change set. */
  async listPlans(query: PlanQuery = {}): Promise<StoredPlan[]> {
    let q = this.db.selectFrom('plans').select('record');
    if (query.unit !== undefined) q = q.where('unit', '=', query.unit);
    if (query.status !== undefined) {
      if (query.status.length === 0) return [];
      q = q.where('status', 'in', [...query.status]);
    }
    if (query.changeSet !== undefined) q = q.where('change_set', '=', query.changeSet);
    if (query.purpose !== undefined) q = q.where('purpose', '=', query.purpose);
    if (query.runIds !== undefined) {
      if (query.runIds.length === 0) return [];
      q = q.where('run_id', 'in', [...query.runIds]);
    }
    if (query.before !== undefined) {
      const from = await this.db.selectFrom('plans').select(['created_at', 'id']).where('id', '=', query.before).executeTakeFirst();
      if (!from) throw pageStartGone('plan', query.before);
      q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(from.created_at, from.id)));
    }
    q = q.orderBy('created_at', 'desc').orderBy('id', 'desc');
    if (query.limit !== undefined) q = q.limit(query.limit);
    const rows = await q.execute();
    return rows.map((r) => planFromRow(r));
  }

  async getChangeSet(id: string): Promise<ChangeSet | undefined> {
    const row = await this.db.selectFrom('change_sets').select('record').where('id', '=', id).executeTakeFirst();
    return row && fromRecord<ChangeSet>(row);
  }

  /** Newest first; `before` pages backwards from a change set id. */
  async listChangeSets(query: { limit?: number; before?: string } = {}): Promise<ChangeSet[]> {
    let q = this.db.selectFrom('change_sets').select('record');
    if (query.before !== undefined) {
      const from = await this.db.selectFrom('change_sets').select(['created_at', 'id']).where('id', '=', query.before).executeTakeFirst();
      if (!from) throw pageStartGone('change set', query.before);
      q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(from.created_at, from.id)));
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(query.limit ?? DEFAULT_PAGE)
      .execute();
    return rows.map((r) => fromRecord<ChangeSet>(r));
  }

  /** Ids are ASCII: a range on the primary key finds the prefix (no LIKE and its wildcards). */
  async findChangeSets(prefix: string, limit = 20): Promise<ChangeSet[]> {
    let q = this.db.selectFrom('change_sets').select('record').where('id', '>=', prefix);
    if (prefix !== '') q = q.where('id', '<', nextPrefix(prefix));
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map((r) => fromRecord<ChangeSet>(r));
  }

  /** Newest first; `before` pages backwards by sequence number; `decisions`: only events with an actor. */
  async listHistory(query: HistoryQuery = {}): Promise<HistoryEvent[]> {
    let q = this.db.selectFrom('history').select(['seq', 'record']);
    if (query.unit !== undefined) q = q.where('unit', '=', query.unit);
    if (query.decisions) q = q.where('actor', 'is not', null);
    if (query.before !== undefined) q = q.where('seq', '<', query.before);
    const rows = await q
      .orderBy('seq', 'desc')
      .limit(query.limit ?? DEFAULT_PAGE)
      .execute();
    return rows.map(fromHistoryRow);
  }

  async getSource(): Promise<SourceStatus | undefined> {
    const row = await this.db.selectFrom('source').select('record').where('id', '=', 1).executeTakeFirst();
    return row && fromRecord<SourceStatus>(row);
  }

  /** Oldest first. */
  async listRuns(query: { unit?: string; state?: RunState } = {}): Promise<RunRecord[]> {
    let q = this.db.selectFrom('runs').select('record');
    if (query.unit !== undefined) q = q.where('unit', '=', query.unit);
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => fromRecord<RunRecord>(r));
  }

  async getOutputs(unit: string): Promise<Record<string, StoredOutput> | undefined> {
    const row = await this.db.selectFrom('unit_outputs').select('record').where('unit', '=', unit).executeTakeFirst();
    return row && (JSON.parse(openText(this.sealer, row.record)) as Record<string, StoredOutput>);
  }

  async getArtifacts(planId: string): Promise<Map<string, Buffer>> {
    const rows = await this.db.selectFrom('plan_artifacts').select(['name', 'content']).where('plan_id', '=', planId).execute();
    return new Map(rows.map((r) => [r.name, this.sealer.open(Buffer.from(r.content))]));
  }

  async listMembers(): Promise<MemberRecord[]> {
    const rows = await this.db.selectFrom('members').select('record').orderBy('name').execute();
    return rows.map((r) => fromRecord<MemberRecord>(r));
  }

  async getLease(name: string): Promise<LeaseRecord | undefined> {
    const row = await this.db.selectFrom('leases').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { name: row.name, holder: row.holder, expiresAt: row.expires_at, fence: Number(row.fence) };
  }

  async lapsedRuns(now: string): Promise<RunRecord[]> {
    const rows = await this.db.selectFrom('runs').select('record').where('state', '=', 'running').where('lease_until', '<', now).orderBy('created_at').execute();
    return rows.map((r) => fromRecord<RunRecord>(r));
  }

  async getToken(name: string): Promise<StoredToken | undefined> {
    const row = await this.db.selectFrom('tokens').select(['hash', 'record']).where('name', '=', name).executeTakeFirst();
    return row && fromTokenRow(row);
  }

  async getTokenByHash(hash: string): Promise<StoredToken | undefined> {
    const row = await this.db.selectFrom('tokens').select(['hash', 'record']).where('hash', '=', hash).executeTakeFirst();
    return row && fromTokenRow(row);
  }

  /** By name. */
  async listTokens(): Promise<StoredToken[]> {
    const rows = await this.db.selectFrom('tokens').select(['hash', 'record']).orderBy('name').execute();
    return rows.map(fromTokenRow);
  }

  /**
   * Counts for the metrics, each one query: units by phase (the units table
   * is read whole, but only its phase column), pending plans and runs by
   * state (each on an index).
   */
  async counts(): Promise<StoreCounts> {
    const phases = await this.db.selectFrom('units').select((eb) => ['phase', eb.fn.countAll<number | string | bigint>().as('n')]).groupBy('phase').execute();
    const pending = await this.db.selectFrom('plans').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).where('status', '=', 'Pending').executeTakeFirstOrThrow();
    const runs = await this.db.selectFrom('runs').select((eb) => ['state', eb.fn.countAll<number | string | bigint>().as('n')]).groupBy('state').execute();
    const byState = Object.fromEntries(runs.map((r) => [r.state, Number(r.n)]));
    return {
      unitsByPhase: Object.fromEntries(phases.filter((r) => r.phase !== null).map((r) => [r.phase, Number(r.n)])),
      pendingPlans: Number(pending.n),
      runs: { queued: byState.queued ?? 0, running: byState.running ?? 0 },
    };
  }

  async getReads(unit: string): Promise<UnitReads | undefined> {
    const row = await this.db.selectFrom('unit_reads').select('record').where('unit', '=', unit).executeTakeFirst();
    return row && fromRecord<UnitReads>(row);
  }

  async listReads(): Promise<UnitReads[]> {
    const rows = await this.db.selectFrom('unit_reads').select('record').execute();
    return rows.map((r) => fromRecord<UnitReads>(r));
  }
}

/** The smallest string greater than every string starting with `prefix`. */
function nextPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function pageStartGone(what: string, id: string): NotFoundError {
  return new NotFoundError('E_PAGE_START_NOT_FOUND', `no ${what} ${id} to page back from`, {
    hint: 'it may have been removed by retention; list again without --before',
  });
}
