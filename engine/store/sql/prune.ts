import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { type Kysely, type RawBuilder, sql } from './kysely.ts';
import type { PlanStatus } from '../../model.ts';
import type { SqlEngine } from './engine.ts';
import type { Database } from './schema.ts';

/** Rows deleted per transaction: each one is short, and other writes go between them. */
export const PRUNE_BATCH = 500;

/** A plan in one of these may still be applied: never pruned. */
const MAY_STILL_APPLY: PlanStatus[] = ['Pending', 'Approved', 'Applying'];
/** The newest plan of each unit in each of these says what the unit manages: kept. */
const LAST_OF_UNIT: PlanStatus[] = ['Applied', 'NoChanges'];

export interface PruneResult {
  plans: number;
  events: number;
  changeSets: number;
  /** Run folders of the deleted plans, for the caller to remove. */
  runIds: string[];
}

type Cursor = readonly [string, string | number];

/**
 * Retention, in batches (one short transaction each, the event loop free in
 * between): plans created before `plansBefore`, except any that may still be
 * applied, the plan each unit's status points at, and each unit's newest
 * Applied and newest NoChanges plan; change sets older than that no plan
 * belongs to any more; history events before `historyBefore`, except those of
 * plans still kept.
 */
export async function pruneStore(engine: SqlEngine, options: { plansBefore: Date; historyBefore: Date }): Promise<PruneResult> {
  const result: PruneResult = { plans: 0, events: 0, changeSets: 0, runIds: [] };
  const plansBefore = options.plansBefore.toISOString();
  const historyBefore = options.historyBefore.toISOString();

  await inBatches(engine, async (db, after) => {
    const rows = await prunablePlans(db, plansBefore, after);
    if (rows.length > 0) {
      const ids = rows.map((r) => r.id);
      await db.deleteFrom('plans').where('id', 'in', ids).execute();
      await db.deleteFrom('plan_artifacts').where('plan_id', 'in', ids).execute();
    }
    result.plans += rows.length;
    result.runIds.push(...rows.map((r) => r.run_id));
    return rows.map((r) => [r.created_at, r.id] as const);
  });

  await inBatches(engine, async (db, after) => {
    const rows = await db
      .selectFrom('change_sets as c')
      .select(['c.id', 'c.created_at'])
      .where('c.created_at', '<', plansBefore)
      .where(after('c.created_at', 'c.id'))
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('plans as p').select('p.id').whereRef('p.change_set', '=', 'c.id'))))
      .orderBy('c.created_at')
      .orderBy('c.id')
      .limit(PRUNE_BATCH)
      .execute();
    if (rows.length > 0) await db.deleteFrom('change_sets').where('id', 'in', rows.map((r) => r.id)).execute();
    result.changeSets += rows.length;
    return rows.map((r) => [r.created_at, r.id] as const);
  });

  await inBatches(engine, async (db, after) => {
    const rows = await db
      .selectFrom('history as h')
      .select(['h.seq', 'h.at'])
      .where('h.at', '<', historyBefore)
      .where(after('h.at', 'h.seq'))
      .where((eb) => eb.or([eb('h.plan_id', 'is', null), eb.not(eb.exists(eb.selectFrom('plans as p').select('p.id').whereRef('p.id', '=', 'h.plan_id')))]))
      .orderBy('h.at')
      .orderBy('h.seq')
      .limit(PRUNE_BATCH)
      .execute();
    if (rows.length > 0) await db.deleteFrom('history').where('seq', 'in', rows.map((r) => r.seq)).execute();
    result.events += rows.length;
    return rows.map((r) => [r.at, r.seq] as const);
  });

  return result;
}

function prunablePlans(db: Kysely<Database>, before: string, after: AfterCursor) {
  return db
    .selectFrom('plans as p')
    .select(['p.id', 'p.run_id', 'p.created_at'])
    .where('p.created_at', '<', before)
    .where(after('p.created_at', 'p.id'))
    .where('p.status', 'not in', MAY_STILL_APPLY)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('units as u').select('u.name').whereRef('u.plan_id', '=', 'p.id'))))
    .where((eb) =>
      eb.or([
        eb('p.status', 'not in', LAST_OF_UNIT),
        eb.exists(
          eb
            .selectFrom('plans as newer')
            .select('newer.id')
            .whereRef('newer.unit', '=', 'p.unit')
            .whereRef('newer.status', '=', 'p.status')
            .where((n) => n(n.refTuple('newer.created_at', 'newer.id'), '>', n.refTuple('p.created_at', 'p.id'))),
        ),
      ]),
    )
    .orderBy('p.created_at')
    .orderBy('p.id')
    .limit(PRUNE_BATCH)
    .execute();
}

/** Restricts a batch's scan to rows after the last one the previous batch returned. */
type AfterCursor = (time: string, key: string) => RawBuilder<boolean>;

/**
 * Runs `batch` in one transaction after another until it returns fewer rows
 * than a batch holds. Each batch resumes after the last row the previous one
 * returned (time, then key): rows kept by the filters are never scanned twice.
 */
async function inBatches(engine: SqlEngine, batch: (db: Kysely<Database>, after: AfterCursor) => Promise<Cursor[]>): Promise<void> {
  let cursor: Cursor | undefined;
  for (;;) {
    const from = cursor;
    const after: AfterCursor = (time, key) =>
      from === undefined ? sql<boolean>`1 = 1` : sql<boolean>`(${sql.ref(time)}, ${sql.ref(key)}) > (${from[0]}, ${from[1]})`;
    const rows = await engine.transaction((db) => batch(db, after));
    if (rows.length < PRUNE_BATCH) return;
    cursor = rows.at(-1);
    await yieldToEventLoop();
  }
}
