import { PlumblineError } from '../../errors.ts';
import { isPostgresUrl } from '../postgres-url.ts';

/**
 * What a failure of the database means for the engine, whatever the engine:
 * - `unavailable`: the disk is full, an I/O error, the server is unreachable or
 *   busy. The change was rolled back; the same write can succeed later.
 * - `damaged`: the database file (or a PostgreSQL page) is corrupt. Retrying
 *   cannot help; a person restores a backup.
 * - `failed`: the database refused the statement itself (a constraint, a type):
 *   a bug, never retried.
 * Undefined: not the database's error at all (the caller's own, passed through).
 */
export type DriverFailure = 'unavailable' | 'damaged' | 'failed';

const SQLITE_UNAVAILABLE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY|NOMEM|PROTOCOL)/;
const SQLITE_DAMAGED = /^SQLITE_(CORRUPT|NOTADB)/;
/**
 * SQLSTATE classes: connection, resources (53100 disk full), operator
 * intervention and statement timeout (57014), system error; and a session
 * the server ended for idling in a transaction (25P03: this member froze).
 */
const PG_UNAVAILABLE = /^(08|53|57P|57014|58|40001|40P01|55P03|25P03)/;
const PG_DAMAGED = /^XX00[12]$/;
const SYSTEM_UNAVAILABLE = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** pg reports a lost or refused connection as a plain Error. */
const PG_CONNECTION_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

export function isDamagedSqliteCode(code: string | undefined): boolean {
  return code !== undefined && SQLITE_DAMAGED.test(code);
}

export function classifyDriverError(error: unknown): DriverFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (error.name === 'SqliteError' && typeof code === 'string') {
    if (isDamagedSqliteCode(code)) return 'damaged';
    return SQLITE_UNAVAILABLE.test(code) ? 'unavailable' : 'failed';
  }
  if ('severity' in error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    // pg's DatabaseError: a SQLSTATE from the server.
    if (PG_DAMAGED.test(code)) return 'damaged';
    return PG_UNAVAILABLE.test(code) ? 'unavailable' : 'failed';
  }
  if (typeof code === 'string' && SYSTEM_UNAVAILABLE.has(code)) return 'unavailable';
  if (PG_CONNECTION_MESSAGE.test(error.message)) return 'unavailable';
  return undefined;
}

/** The driver's own code, for the message (`SQLITE_FULL`, SQLSTATE `53100`). */
function driverCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? ` (${code})` : '';
}

const BUG_HINT = 'this is a bug in Plumbline if it keeps happening; please report it with the daemon log';

/**
 * A failed write transaction: nothing of it was kept (it was rolled back).
 * Returns undefined for an error that is not the database's: the caller
 * rethrows it unchanged.
 */
export function storeWriteError(error: unknown, where: string): PlumblineError | undefined {
  if (error instanceof PlumblineError) return undefined;
  const failure = classifyDriverError(error);
  if (failure === undefined) return undefined;
  const message = `${where}: a store write failed and was rolled back: ${(error as Error).message}${driverCode(error)}`;
  if (failure === 'damaged') return damagedInUse(where, error);
  if (failure === 'unavailable') {
    return new PlumblineError('E_STORE_WRITE', message, {
      retry: 'transient',
      cause: error,
      hint: 'free disk space (or bring the database server back); the change is written again once writes succeed',
    });
  }
  return new PlumblineError('E_STORE_QUERY', message, { retry: 'stalled', cause: error, hint: BUG_HINT });
}

export function storeReadError(error: unknown, where: string): PlumblineError | undefined {
  if (error instanceof PlumblineError) return undefined;
  const failure = classifyDriverError(error);
  if (failure === undefined) return undefined;
  if (failure === 'damaged') return damagedInUse(where, error);
  const message = `${where}: a store read failed: ${(error as Error).message}${driverCode(error)}`;
  if (failure === 'unavailable') {
    return new PlumblineError('E_STORE_READ', message, { retry: 'transient', cause: error, hint: 'check the disk (or the database server); reads are tried again' });
  }
  return new PlumblineError('E_STORE_QUERY', message, { retry: 'stalled', cause: error, hint: BUG_HINT });
}

/** How to recover a damaged store: from a backup, never by starting empty. */
export function restoreHint(location: string): string {
  if (isPostgresUrl(location)) {
    return 'restore the last copy taken with `plumbline backup` (pg_restore into an empty database, then point store.url at it), or have the server repaired; the store is never reset on its own';
  }
  return 'stop the daemon, move plumbline.db and its -wal and -shm files aside, and copy the last backup taken with `plumbline backup --config FILE --to BACKUP` to <stateDir>/plumbline.db; the store is never reset on its own';
}

function damagedInUse(where: string, error: unknown): PlumblineError {
  return new PlumblineError('E_STORE_DAMAGED', `${where}: the store's database is damaged: ${(error as Error).message}${driverCode(error)}`, {
    retry: 'stalled',
    cause: error,
    hint: restoreHint(where),
  });
}
