import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { PlumblineError } from '../../errors.ts';
import { fsyncDir } from '../atomic.ts';
import { type SqlEngine, runTransaction } from './engine.ts';
import { classifyDriverError, RESTORE_HINT } from './errors.ts';
import type { Database } from './schema.ts';

export const SQLITE_FILE = 'plumbline.db';
/** How long a writer waits for another process's write (`plumbline migrate`, a backup) before failing. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * The embedded engine: `<stateDir>/plumbline.db` in WAL mode with
 * `synchronous=FULL` (a committed transaction survives a power cut). Two
 * connections: writes go through one (BEGIN IMMEDIATE takes the write lock
 * before reading, so two writers never interleave a read-modify-write, in
 * this process or another), reads through the other, which sees only
 * committed data and never waits for a write in progress.
 */
export async function openSqlite(stateDir: string): Promise<SqlEngine> {
  const file = join(stateDir, SQLITE_FILE);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const existed = await hasContent(file);
  // Created private before SQLite opens it: its -wal and -shm files take the same mode.
  await (await open(file, 'a', 0o600)).close();
  const connections: BetterSqlite3.Database[] = [];
  try {
    const writer = connect(file, connections);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = FULL');
    writer.pragma('foreign_keys = ON');
    if (existed) checkIntegrity(writer, file);
    const reader = connect(file, connections);
    reader.pragma('query_only = ON');
    return new SqliteEngine(file, writer, reader);
  } catch (error) {
    for (const c of connections) c.close();
    throw openError(error, file);
  }
}

/** Open an existing database for a backup only: no migration, no import. */
export async function openSqliteForBackup(stateDir: string): Promise<SqlEngine> {
  const file = join(stateDir, SQLITE_FILE);
  if (!(await hasContent(file))) {
    throw new PlumblineError('E_STORE_MISSING', `there is no store database at ${file}`, {
      hint: 'check stateDir in the config: the daemon creates plumbline.db there when it starts',
    });
  }
  return openSqlite(stateDir);
}

function connect(file: string, opened: BetterSqlite3.Database[]): BetterSqlite3.Database {
  const db = new BetterSqlite3(file, { timeout: BUSY_TIMEOUT_MS });
  opened.push(db);
  return db;
}

/**
 * A damaged file is refused, never reset: `quick_check` reads every page of
 * the database (a truncated or overwritten file fails it, as does one that is
 * not a database at all) without the cost of checking every index entry.
 */
function checkIntegrity(db: BetterSqlite3.Database, file: string): void {
  const rows = db.pragma('quick_check(20)') as Array<{ quick_check: string }>;
  const problems = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  if (problems.length > 0) throw damaged(file, problems.join('; '));
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
    hint: RESTORE_HINT,
    details: { file },
  });
}

async function hasContent(file: string): Promise<boolean> {
  try {
    return (await stat(file)).size > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
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
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await this.reader.backup(tmp, { progress: () => 0x7fffffff });
      const copy = new BetterSqlite3(tmp);
      try {
        checkIntegrity(copy, tmp);
        copy.pragma('journal_mode = DELETE'); // one self-contained file
      } finally {
        copy.close();
      }
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
    await this.writes.destroy();
    await this.db.destroy();
  }
}
