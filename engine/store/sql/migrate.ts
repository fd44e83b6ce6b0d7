import { PlumblineError } from '../../errors.ts';
import type { SqlEngine } from './engine.ts';
import { type Kysely, Migrator } from './kysely.ts';
import { knownMigrationNames, storeMigrations } from './migrations.ts';
import type { Database } from './schema.ts';

const MIGRATION_TABLE = 'kysely_migration';

/**
 * Bring the schema up to this version: the pending migrations, all or none.
 * A database that has migrations this version does not know was written by
 * a newer Plumbline: it is refused, never "repaired" by older code.
 * Returns the names applied (none when it was up to date).
 */
export async function migrateStore(engine: SqlEngine): Promise<string[]> {
  return engine.migrate(async (db) => {
    await refuseNewerSchema(db, engine.location);
    const migrator = new Migrator({ db, provider: { getMigrations: async () => storeMigrations(engine.kind) } });
    const { error, results = [] } = await migrator.migrateToLatest();
    if (error) {
      const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'a migration';
      throw new PlumblineError('E_STORE_MIGRATE', `migration ${failed} of the store's database ${engine.location} failed: ${(error as Error).message}`, {
        cause: error,
        retry: 'stalled',
        hint: 'nothing of it was applied; the daemon log has the cause. Restore a backup if the database was changed by hand',
      });
    }
    return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
  });
}

async function refuseNewerSchema(db: Kysely<Database>, location: string): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === MIGRATION_TABLE)) return;
  const known = new Set(knownMigrationNames());
  const applied = await (db as unknown as Kysely<{ [MIGRATION_TABLE]: { name: string } }>).selectFrom(MIGRATION_TABLE).select('name').execute();
  const unknown = applied.map((r) => r.name).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new PlumblineError(
      'E_STORE_TOO_NEW',
      `the store's database ${location} was written by a newer Plumbline: its schema has migrations this version does not know (${unknown.sort().join(', ')})`,
      {
        retry: 'stalled',
        hint: 'run the Plumbline version that last used this state (or a newer one), or restore a backup taken before the upgrade',
        details: { unknownMigrations: unknown },
      },
    );
  }
}
