import { DEFAULT_STORE_RETENTION } from '../config/defaults.ts';
import type { StoreSettings } from '../config/types.ts';
import { PlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isPostgresUrl } from './postgres-url.ts';
import type { SqlEngine } from './sql/engine.ts';
import { storeWriteError } from './sql/errors.ts';
import { importJsonStore, type JsonStoreImport } from './sql/import-json.ts';
import { migrateStore } from './sql/migrate.ts';
import { SqlStore } from './sql/sql-store.ts';
import { defaultSealingKeyFile, loadSealingKey, openText, sealerOf, sealText, type Sealer } from './sealing.ts';
import { openSqlite, openSqliteForBackup } from './sql/sqlite.ts';

/** What opening the store needs of the daemon config (optional parts as in configs built in code). */
export interface StoreConfig {
  stateDir: string;
  store?: Partial<Pick<StoreSettings, 'url' | 'passwordFile' | 'sealingKeyFile'>> & { retention?: Partial<StoreSettings['retention']> };
}

export interface PreparedStore {
  /** Migrations applied now, in order. */
  migrations: string[];
  /** A JSON-file store found in the state directory and imported now. */
  imported?: JsonStoreImport;
}

/**
 * The store the daemon runs on: SQLite at `<stateDir>/plumbline.db`, or
 * PostgreSQL when `store.url` is a postgres:// URL. Brought up to date first
 * (migrations, then a JSON-file store left by an older version imported).
 * A damaged database is refused (E_STORE_DAMAGED), never reset; one written
 * by a newer version too (E_STORE_TOO_NEW).
 */
export async function openStore(config: StoreConfig, log: Logger): Promise<SqlStore> {
  const engine = await openEngine(config, log);
  try {
    const prepared = await prepare(engine, config.stateDir, log);
    if (prepared.migrations.length > 0) log.info({ store: engine.location, migrations: prepared.migrations }, 'store schema migrated');
    void engine.integrity.then((found) => {
      if (found?.code === 'E_STORE_DAMAGED') log.error({ code: found.code, hint: found.hint, err: found }, 'the store database is damaged');
      else if (found) log.warn({ code: found.code, err: found }, 'the store integrity check could not run');
    });
    const store = new SqlStore(engine, log, await sealerFor(engine, config, log));
    if (prepared.imported) store.imported = prepared.imported;
    return store;
  } catch (error) {
    await engine.close();
    throw error;
  }
}

const SEALING_CHECK = 'sealing-check';
const SEALING_CHECK_TEXT = 'plumbline sealing key check';

/**
 * The key that seals secrets in this store. A store remembers a value sealed
 * with its key, so a daemon given another key (a cluster member with a key of
 * its own, a restored backup with the wrong file) refuses to start instead of
 * failing on the first secret it reads.
 */
async function sealerFor(engine: SqlEngine, config: StoreConfig, log: Logger): Promise<Sealer> {
  const file = config.store?.sealingKeyFile || defaultSealingKeyFile(config.stateDir);
  const stored = async () => (await engine.db.selectFrom('store_meta').select('value').where('key', '=', SEALING_CHECK).executeTakeFirst())?.value;
  const check = await stored();
  const { key, created } = await loadSealingKey(file, check === undefined);
  const sealer = sealerOf(key);
  if (created) log.info({ file }, 'sealing key created: keep a copy apart from the store backups');
  if (check === undefined) {
    await engine.transaction((db) =>
      db.insertInto('store_meta').values({ key: SEALING_CHECK, value: sealText(sealer, SEALING_CHECK_TEXT) }).onConflict((oc) => oc.column('key').doNothing()).execute(),
    );
  }
  // Read back: another daemon may have set up the store with its key meanwhile.
  const value = await stored();
  let opened: string | undefined;
  try {
    opened = value === undefined ? undefined : openText(sealer, value);
  } catch {
    opened = undefined;
  }
  if (opened !== SEALING_CHECK_TEXT) {
    throw new PlumblineError('E_SEALING_KEY_MISMATCH', `the sealing key in ${file} is not the key this store's secrets are sealed with`, {
      hint: 'every daemon sharing a store needs the same key file: copy it from a daemon already using the store (or restore the one kept with this backup), then start again',
    });
  }
  return sealer;
}

/** `plumbline migrate`: what `openStore` does at start, then close; says what it did. */
export async function migrateStoreOf(config: StoreConfig, log: Logger): Promise<PreparedStore & { location: string }> {
  const engine = await openEngine(config, log);
  try {
    return { location: engine.location, ...(await prepare(engine, config.stateDir, log)) };
  } finally {
    await engine.close();
  }
}

/** `plumbline backup`: a consistent copy while the daemon runs; the database is neither migrated nor imported into. */
export async function backupStoreOf(config: StoreConfig, file: string, log: Logger): Promise<{ location: string }> {
  const url = config.store?.url;
  const engine = url ? await openPostgresStore(url, config, log) : await openSqliteForBackup(config.stateDir);
  try {
    await engine.backup(file);
    return { location: engine.location };
  } finally {
    await engine.close();
  }
}

/** Retention cutoffs at `now`; `null` (`off` in the config) keeps everything. */
export function retentionCutoffs(store: StoreConfig['store'], now = new Date()): { plansBefore: Date; historyBefore: Date } {
  const plansMs = store?.retention?.plansMs === undefined ? DEFAULT_STORE_RETENTION.plansMs : store.retention.plansMs;
  const historyMs = store?.retention?.historyMs === undefined ? DEFAULT_STORE_RETENTION.historyMs : store.retention.historyMs;
  const before = (ms: number | null) => new Date(ms === null ? 0 : now.getTime() - ms);
  return { plansBefore: before(plansMs), historyBefore: before(historyMs) };
}

async function prepare(engine: SqlEngine, stateDir: string, log: Logger): Promise<PreparedStore> {
  try {
    const migrations = await migrateStore(engine);
    const imported = await importJsonStore(engine, stateDir, log);
    return { migrations, ...(imported ? { imported } : {}) };
  } catch (error) {
    throw storeWriteError(error, engine.location) ?? error;
  }
}

async function openEngine(config: StoreConfig, log: Logger): Promise<SqlEngine> {
  const url = config.store?.url;
  return url ? openPostgresStore(url, config, log) : openSqlite(config.stateDir);
}

async function openPostgresStore(url: string, config: StoreConfig, log: Logger): Promise<SqlEngine> {
  if (!isPostgresUrl(url)) {
    throw new PlumblineError('E_STORE_URL', 'store.url must be a postgres:// URL', { hint: 'leave store.url out to keep the store in <stateDir>/plumbline.db (SQLite)' });
  }
  // Loaded only for PostgreSQL: the driver and what it needs stay out of an embedded daemon.
  const { openPostgres } = await import('./sql/postgres.ts');
  return openPostgres({ url, passwordFile: config.store?.passwordFile ?? null }, log);
}
