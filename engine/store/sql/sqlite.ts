import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { PlumblineError } from '../../errors.ts';
import { fsyncDir } from '../atomic.ts';
import { privateTempBeside, runTransaction, type SqlEngine } from './engine.ts';
import { classifyDriverError, restoreHint } from './errors.ts';
import { headerProblem, type QuickCheck, quickCheck, type RunningCheck } from './integrity.ts';
import { Kysely, SqliteDialect, sql } from './kysely.ts';
import type { Database } from './schema.ts';

export const SQLITE_FILE = 'plumbline.db';
/** How long a writer waits for another process's write (`plumbline migrate`, a backup) before failing. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Databases up to this size are checked in full before the store opens
 * (`quick_check` reads every page: about 0.2 s for 128 MiB on a busy 2-core
 * machine); a larger one opens at once and is checked in the background.
 */
export const FULL_CHECK_AT_OPEN_BYTES = 128 * 2 ** 20;

/**
 * The page cache of each connection, in KiB (SQLite's `cache_size`, negative
 * for KiB). The driver is built with 16 MiB per connection, and the daemon
 * holds two: after its first reconcile of 1,050 units (an 11 MiB database)
 * the C allocator's main arena held 22.7 MiB, 11.6 MiB with 2 MiB caches, and
 * the daemon's resident memory went down by as much. A cached page stays for
 * the life of the process. The file is in the operating system's page cache
 * anyway, so a page not cached here costs a copy from memory, not a disk read.
 * 2 MiB is SQLite's own default.
 */
export const PAGE_CACHE_KIB = 2_000;

/**
 * The embedded engine: `<stateDir>/plumbline.db` in WAL mode with
 * `synchronous=FULL` (a committed transaction survives a power cut). Two
 * connections: writes go through one (BEGIN IMMEDIATE takes the write lock
 * before reading, so two writers never interleave a read-modify-write, in
 * this process or another), reads through the other, which sees only
 * committed data and never waits for a write in progress.
 *
 * A damaged file is refused, never reset: one that is not SQLite's, or is
 * shorter than its header says, at once; one with a garbled page by
 * `quick_check` (see FULL_CHECK_AT_OPEN_BYTES).
 */
export async function openSqlite(stateDir: string, options: { fullCheckAtOpenUpToBytes?: number } = {}): Promise<SqlEngine> {
  const file = join(stateDir, SQLITE_FILE);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const size = await fileSize(file);
  if (size > 0) {
    const problem = await headerProblem(file);
    if (problem) throw damaged(file, problem);
  }
  // Created private before SQLite opens it: its -wal and -shm files take the same mode.
  await (await open(file, 'a', 0o600)).close();
  const connections: BetterSqlite3.Database[] = [];
  let check: RunningCheck | undefined;
  try {
    const writer = connect(file, connections);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = FULL');
    writer.pragma('foreign_keys = ON');
    const reader = connect(file, connections);
    reader.pragma('query_only = ON');
    let integrity: Promise<PlumblineError | undefined> = Promise.resolve(undefined);
    if (size > 0) {
      check = quickCheck(file, BUSY_TIMEOUT_MS);
      integrity = check.result.then((outcome) => checkError(outcome, file));
      if (size <= (options.fullCheckAtOpenUpToBytes ?? FULL_CHECK_AT_OPEN_BYTES)) {
        const found = await integrity;
        if (found?.code === 'E_STORE_DAMAGED') throw found;
      }
    }
    return new SqliteEngine(file, writer, reader, integrity, check);
  } catch (error) {
    check?.stop();
    for (const c of connections) c.close();
    throw openError(error, file);
  }
}

function checkError(outcome: QuickCheck, file: string): PlumblineError | undefined {
  if (outcome.ok === true) return undefined;
  if (outcome.ok === false) return damaged(file, `quick_check: ${outcome.problems.join('; ')}`);
  return new PlumblineError('E_STORE_CHECK', `the integrity check of ${file} could not run: ${outcome.error}`, {
    retry: 'transient',
    hint: 'nothing was found wrong; the check runs again at the next start',
  });
}

/** Open an existing database for a backup only: no migration, no import. */
export async function openSqliteForBackup(stateDir: string): Promise<SqlEngine> {
  const file = join(stateDir, SQLITE_FILE);
  if ((await fileSize(file)) === 0) {
    throw new PlumblineError('E_STORE_MISSING', `there is no store database at ${file}`, {
      hint: 'check stateDir in the config: the daemon creates plumbline.db there when it starts',
    });
  }
  return openSqlite(stateDir);
}

function connect(file: string, opened: BetterSqlite3.Database[]): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, { timeout: BUSY_TIMEOUT_MS });
  opened.push(db);
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  return db;
}

function openError(error: unknown, file: string): PlumblineError {
  if (error instanceof PlumblineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (classifyDriverError(error) === 'damaged') return damaged(file, message, error);
  return new PlumblineError('E_STORE_OPEN', `cannot open the store's database ${file}: ${message}`, {
    retry: 'stalled',
    cause: error,
    hint: 'check that the state directory is on a local disk, writable by the daemon user, and not full',
  });
}

function damaged(file: string, what: string, cause?: unknown): PlumblineError {
  return new PlumblineError('E_STORE_DAMAGED', `the store's database ${file} is damaged: ${what}`, {
    retry: 'stalled',
    ...(cause === undefined ? {} : { cause }),
    hint: restoreHint(file),
    details: { file },
  });
}

/** 0 when absent. */
async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

class SqliteEngine implements SqlEngine {
  readonly kind = 'sqlite' as const;
  readonly db: Kysely<Database>;
  private readonly writes: Kysely<Database>;

  constructor(
    readonly location: string,
    private readonly writer: BetterSqlite3.Database,
    private readonly reader: BetterSqlite3.Database,
    readonly integrity: Promise<PlumblineError | undefined>,
    private readonly check: RunningCheck | undefined,
  ) {
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reader }) });
    // Kysely holds its one connection for a whole transaction: writes of this process queue up.
    this.writes = new Kysely<Database>({ dialect: new SqliteDialect({ database: writer }) });
  }

  transaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return runTransaction(this.writes, this.begin, fn);
  }

  private readonly begin = async (conn: Kysely<Database>): Promise<void> => {
    // A ROLLBACK that itself failed (an I/O error) can leave a transaction open; start clean.
    if (this.writer.inTransaction) this.writer.exec('rollback');
    await sql`begin immediate`.execute(conn);
  };

  migrate(migrations: (db: Kysely<Database>) => Promise<string[]>): Promise<string[]> {
    // SQLite's DDL is transactional: all pending migrations land together.
    return this.transaction(migrations);
  }

  /**
   * The online backup API, in one step: the copy is one read transaction, so
   * it is consistent however busy the daemon is (a reader never blocks a
   * writer in WAL mode). Written beside the target and renamed over it.
   */
  async backup(file: string): Promise<void> {
    const tmp = await privateTempBeside(file);
    try {
      await this.reader.backup(tmp, { progress: () => 0x7fffffff });
      const copy = new BetterSqlite3(tmp);
      try {
        copy.pragma('journal_mode = DELETE'); // one self-contained file
      } finally {
        copy.close();
      }
      const found = checkError(await quickCheck(tmp, BUSY_TIMEOUT_MS).result, tmp);
      if (found) throw found;
      const handle = await open(tmp, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
      await fsyncDir(dirname(file));
    } finally {
      await rm(tmp, { force: true });
      await rm(`${tmp}-wal`, { force: true });
      await rm(`${tmp}-shm`, { force: true });
    }
  }

  async close(): Promise<void> {
    this.check?.stop();
    await this.writes.destroy();
    await this.db.destroy();
  }
}
