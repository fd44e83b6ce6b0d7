import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { PlumblineError } from '../../errors.ts';
import { type Kysely, sql } from './kysely.ts';
import type { EngineKind } from './migrations.ts';
import type { Database } from './schema.ts';

/** What the store needs of a database engine; sqlite.ts and postgres.ts provide it. */
export interface SqlEngine {
  readonly kind: EngineKind;
  /** The file, or the URL without its password: for messages and logs. */
  readonly location: string;
  /**
   * The full integrity check started at open: undefined once it passed (or
   * when the engine checks itself, as PostgreSQL does); else E_STORE_DAMAGED
   * with what it found, or E_STORE_CHECK when it could not run. Never rejects.
   */
  readonly integrity: Promise<PlumblineError | undefined>;
  /** Reads of the last committed state. */
  readonly db: Kysely<Database>;
  /**
   * One write transaction on one connection, serialized with every other
   * writer (of this process and of any other): `fn`'s writes land together at
   * COMMIT or not at all.
   */
  transaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Runs the pending migrations, all or none; returns their names. */
  migrate(migrations: (db: Kysely<Database>) => Promise<string[]>): Promise<string[]>;
  /** A consistent copy of the whole database into `file`. */
  backup(file: string): Promise<void>;
  /**
   * Another process on the same database notified `channel` (PostgreSQL
   * LISTEN on a connection of its own, reconnected when lost); absent on
   * engines one process has to itself. Returns the function that stops.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * BEGIN (the engine's statements), `fn`, COMMIT on one connection; ROLLBACK
 * when anything fails, COMMIT included. The ROLLBACK's own failure is not
 * reported: the engine may have rolled back already (SQLite does on
 * SQLITE_FULL), and the first error is the one that explains what happened.
 */
export async function runTransaction<T>(
  db: Kysely<Database>,
  begin: (conn: Kysely<Database>) => Promise<void>,
  fn: (conn: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    try {
      await begin(conn);
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * An empty file beside `file`, private to this user (a copy of the store is
 * no one else's business), for a backup to be written into and then renamed
 * over `file`.
 */
export async function privateTempBeside(file: string): Promise<string> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await (await open(tmp, 'wx', 0o600)).close();
  return tmp;
}
