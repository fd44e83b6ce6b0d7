import { readFile, rename, rm } from 'node:fs/promises';
import pg from 'pg';
import { PlumblineError } from '../../errors.ts';
import { run } from '../../exec.ts';
import type { Logger } from '../../log.ts';
import { secrets } from '../../secrets.ts';
import { redactUrl } from '../../source/git-source.ts';
import { privateTempBeside, runTransaction, type SqlEngine } from './engine.ts';
import { Kysely, PostgresDialect, sql } from './kysely.ts';
import type { Database } from './schema.ts';

export interface PostgresSettings {
  /** `postgres://user@host:5432/db?sslmode=require`. */
  url: string;
  /** The password, read at start; else the URL's, else PGPASSWORD. */
  passwordFile?: string | null;
}

/**
 * Every write transaction of every daemon on this database takes this
 * transaction-scoped advisory lock first: writers are serialized as SQLite's
 * are, so a read-modify-write inside `write()` never loses an update, and
 * history sequence numbers are committed in order.
 */
const WRITE_LOCK = 0x706c756d; // "plum"
const POOL_SIZE = 8;
const CONNECT_TIMEOUT_MS = 10_000;
const STATEMENT_TIMEOUT_MS = 5 * 60_000;
/**
 * A write transaction's own work between two statements takes milliseconds.
 * A member frozen in the middle of one (SIGSTOP, a suspended VM, a long GC
 * pause) would otherwise hold the write lock, and so every member's writes,
 * until it woke: the server ends its session after this long instead, and
 * the frozen member's transaction is rolled back.
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

/** The external engine, through a pool of connections; one connection per transaction. */
export async function openPostgres(settings: PostgresSettings, log: Logger): Promise<SqlEngine> {
  const location = redactUrl(settings.url); // also registers a password in the URL as a secret
  const password = settings.passwordFile ? await readPassword(settings.passwordFile) : undefined;
  const pool = new pg.Pool({
    connectionString: withPassword(settings.url, password),
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // A server that stops answering fails the statement (transient) instead of holding the daemon forever.
    statement_timeout: STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    application_name: 'plumbline',
  });
  // An idle connection the server closes must not end the process; the next query reconnects.
  pool.on('error', (error) => log.warn({ store: location, err: error }, 'store database connection lost'));
  // Nor one in use: a connection checked out of the pool has no listener of the pool's, and a server
  // restart reports on it both to the query (which fails, as a transient store error) and as an event.
  pool.on('connect', (client) => client.on('error', (error) => log.warn({ store: location, err: error }, 'store database connection lost while in use')));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw new PlumblineError('E_STORE_CONNECT', `cannot connect to the store's database ${location}: ${secrets.maskText((error as Error).message)}`, {
      retry: 'transient',
      cause: error,
      hint: 'check store.url, the password (store.passwordFile or PGPASSWORD) and that the server accepts connections from this host',
    });
  }
  return new PostgresEngine(location, db, settings.url, password);
}

async function readPassword(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PlumblineError('E_STORE_PASSWORD', `cannot read store.passwordFile ${file}: ${(error as Error).message}`, {
      cause: error,
      hint: 'the file holds the database password on its first line, readable by the daemon user only',
    });
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  secrets.add(password);
  return password;
}

function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

class PostgresEngine implements SqlEngine {
  readonly kind = 'postgres' as const;
  /** The server checks its own pages (and reports XX001 on a damaged one). */
  readonly integrity = Promise.resolve(undefined);

  constructor(
    readonly location: string,
    readonly db: Kysely<Database>,
    private readonly url: string,
    private readonly password: string | undefined,
  ) {}

  transaction<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return runTransaction(this.db, begin, fn);
  }

  migrate(migrations: (db: Kysely<Database>) => Promise<string[]>): Promise<string[]> {
    // Kysely's migrator runs them in one transaction under its own advisory lock.
    return migrations(this.db);
  }

  /**
   * PostgreSQL has its own consistent online copy: `pg_dump` (custom format,
   * for `pg_restore`), run with the store's URL and password (in the
   * environment, never on the command line). The pg_dump on PATH must be as
   * new as the server.
   */
  async backup(file: string): Promise<void> {
    const url = new URL(this.url);
    const password = this.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
    url.password = '';
    const tmp = await privateTempBeside(file);
    try {
      await run('pg_dump', ['--format=custom', '--no-password', `--file=${tmp}`, `--dbname=${url.toString()}`], {
        env: password === undefined ? {} : { PGPASSWORD: password },
        timeoutMs: 6 * 60 * 60_000,
        classify: () => ({
          code: 'E_STORE_BACKUP',
          hint: 'pg_dump (from the PostgreSQL client package, as new as the server) must be on PATH and reach the database; or take the backup with your usual PostgreSQL tooling',
          retry: 'transient',
        }),
      });
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    let stopped = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    const connect = async (delay: number): Promise<void> => {
      if (stopped) return;
      const next = new pg.Client({ connectionString: withPassword(this.url, this.password), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'plumbline-listen' });
      const again = () => {
        next.removeAllListeners();
        // A dead connection may still report errors: they must not end the process.
        next.on('error', () => undefined);
        next.end().catch(() => undefined);
        if (client === next) client = undefined;
        if (!stopped) retry = setTimeout(() => void connect(Math.min(delay * 2, 30_000)), delay);
        // Whatever was queued while the connection was down: look once.
        onNotify();
      };
      next.on('error', again);
      next.on('end', () => {
        if (!stopped) again();
      });
      next.on('notification', () => onNotify());
      try {
        await next.connect();
        await next.query(`LISTEN ${channel}`);
        client = next;
        // Whatever was written while no connection listened (a database restarting): look once.
        if (delay > 1_000) onNotify();
      } catch {
        again();
      }
    };
    await connect(1_000);
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

async function begin(conn: Kysely<Database>): Promise<void> {
  await sql`begin`.execute(conn);
  await sql`select pg_advisory_xact_lock(${WRITE_LOCK})`.execute(conn);
}
