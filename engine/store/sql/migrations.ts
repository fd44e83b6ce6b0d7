import { type ColumnDefinitionBuilder, type Kysely, type Migration, sql } from './kysely.ts';

export type EngineKind = 'sqlite' | 'postgres';

/**
 * The store's schema, as versioned migrations in code (nothing is read from
 * files at run time). Kysely runs those not yet recorded in `kysely_migration`,
 * in name order; a name, once released, never changes and its body never
 * changes either: a new version of the schema is a new entry.
 */
export function storeMigrations(engine: EngineKind): Record<string, Migration> {
  return {
    '0001_initial': { up: (db) => initial(db, engine) },
    '0002_runs': { up: (db) => runs(db, engine) },
    '0003_tokens_audit': { up: (db) => tokensAndAudit(db, engine) },
    '0004_cluster': { up: (db) => cluster(db, engine) },
  };
}

/** Names of every migration this version knows, in order. */
export function knownMigrationNames(): string[] {
  return Object.keys(storeMigrations('sqlite')).sort();
}

async function initial(db: Kysely<unknown>, engine: EngineKind): Promise<void> {
  // Byte order on both engines: PostgreSQL's default collation would sort
  // and compare ids and times by locale rules.
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  const required = (c: ColumnDefinitionBuilder) => c.notNull();

  await db.schema.createTable('units')
    .addColumn('name', text, (c) => c.primaryKey())
    .addColumn('plan_id', text)
    .addColumn('record', 'text', required)
    .execute();
  await db.schema.createIndex('units_plan_id').on('units').column('plan_id').execute();

  await db.schema.createTable('plans')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('unit', text, required)
    .addColumn('status', text, required)
    .addColumn('change_set', text)
    .addColumn('purpose', text, required)
    .addColumn('created_at', text, required)
    .addColumn('run_id', text, required)
    .addColumn('record', 'text', required)
    .execute();
  // Newest first, per unit and overall (also the retention scan).
  await db.schema.createIndex('plans_unit_created').on('plans').columns(['unit', 'created_at', 'id']).execute();
  await db.schema.createIndex('plans_created').on('plans').columns(['created_at', 'id']).execute();
  // Plans that may still be applied, found at start without reading the others.
  await db.schema.createIndex('plans_status_created').on('plans').columns(['status', 'created_at', 'id']).execute();
  await db.schema.createIndex('plans_change_set').on('plans').columns(['change_set', 'created_at', 'id']).execute();
  await db.schema.createIndex('plans_purpose_status').on('plans').columns(['purpose', 'status']).execute();

  await db.schema.createTable('change_sets')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('created_at', text, required)
    .addColumn('record', 'text', required)
    .execute();
  await db.schema.createIndex('change_sets_created').on('change_sets').columns(['created_at', 'id']).execute();

  await db.schema.createTable('history')
    .addColumn('seq', engine === 'postgres' ? 'bigint' : 'integer', (c) =>
      // AUTOINCREMENT: SQLite never hands out a number again, even after the newest events are pruned.
      engine === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('at', text, required)
    .addColumn('unit', text)
    .addColumn('plan_id', text)
    .addColumn('record', 'text', required)
    .execute();
  await db.schema.createIndex('history_unit_seq').on('history').columns(['unit', 'seq']).execute();
  await db.schema.createIndex('history_at_seq').on('history').columns(['at', 'seq']).execute();

  await db.schema.createTable('source')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('record', 'text', required)
    .execute();

  await db.schema.createTable('unit_reads')
    .addColumn('unit', text, (c) => c.primaryKey())
    .addColumn('record', 'text', required)
    .execute();

  await db.schema.createTable('store_meta')
    .addColumn('key', text, (c) => c.primaryKey())
    .addColumn('value', 'text', required)
    .execute();
}

/** The run queue: what the engine does next, written with the state change that asks for it. */
async function runs(db: Kysely<unknown>, engine: EngineKind): Promise<void> {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  await db.schema
    .createTable('runs')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('unit', text, (c) => c.notNull())
    .addColumn('state', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('record', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('runs_unit').on('runs').columns(['unit', 'created_at']).execute();
  await db.schema.createIndex('runs_state_created').on('runs').columns(['state', 'created_at']).execute();
  await db.schema.createIndex('plans_run_id').on('plans').column('run_id').execute();
}

/**
 * Several daemons on one database: members and their heartbeats, leases
 * (the leader's), who runs what until when, the outputs dependants read and
 * the artifacts a plan made on one member and applied on another needs.
 */
async function cluster(db: Kysely<unknown>, engine: EngineKind): Promise<void> {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  await db.schema.alterTable('runs').addColumn('claimed_by', text).execute();
  await db.schema.alterTable('runs').addColumn('lease_until', text).execute();
  await db.schema.createIndex('runs_lease').on('runs').columns(['state', 'lease_until']).execute();
  await db.schema
    .createTable('members')
    .addColumn('name', text, (c) => c.primaryKey())
    .addColumn('heartbeat_at', text, (c) => c.notNull())
    .addColumn('record', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('leases')
    .addColumn('name', text, (c) => c.primaryKey())
    .addColumn('holder', text, (c) => c.notNull())
    .addColumn('expires_at', text, (c) => c.notNull())
    .addColumn('fence', 'bigint', (c) => c.notNull())
    .execute();
  // Sealed (see sealing.ts): a dependant needs its upstream's real values, secrets included.
  await db.schema
    .createTable('unit_outputs')
    .addColumn('unit', text, (c) => c.primaryKey())
    .addColumn('record', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('plan_artifacts')
    .addColumn('plan_id', text, (c) => c.notNull())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('content', engine === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('plan_artifacts_pk', ['plan_id', 'name'])
    .execute();
}

/**
 * Personal API tokens; the actor of each history event, so the decisions are
 * listed on an index of their own; each unit's phase as a column, so the
 * metrics count units by phase without reading their records.
 */
async function tokensAndAudit(db: Kysely<unknown>, engine: EngineKind): Promise<void> {
  const text = engine === 'postgres' ? sql`text collate "C"` : sql`text`;
  await db.schema
    .createTable('tokens')
    .addColumn('name', text, (c) => c.primaryKey())
    .addColumn('hash', text, (c) => c.notNull().unique())
    .addColumn('record', 'text', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('history').addColumn('actor', text).execute();
  // Only decisions have an actor: a partial index holds just them, newest first by seq.
  await db.schema.createIndex('history_decisions').on('history').column('seq').where(sql<boolean>`actor is not null`).execute();

  await db.schema.alterTable('units').addColumn('phase', text).execute();
  const phase = engine === 'postgres' ? sql`record::jsonb ->> 'phase'` : sql`json_extract(record, '$.phase')`;
  await sql`update units set phase = ${phase}`.execute(db);
}
