import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { ConflictError } from '../../errors.ts';
import { classifyDriverError, restoreHint, storeReadError, storeWriteError } from './errors.ts';

const sqlite = (code: string) => new BetterSqlite3.SqliteError(`sqlite says ${code}`, code);
const postgres = (code: string) => Object.assign(new pg.DatabaseError(`server says ${code}`, 0, 'error'), { code, severity: 'ERROR' });

describe('what a database failure means', () => {
  it('a full disk, an I/O error, a busy or unreachable database: unavailable, the write can succeed later', () => {
    for (const error of [
      sqlite('SQLITE_FULL'),
      sqlite('SQLITE_IOERR_WRITE'),
      sqlite('SQLITE_BUSY'),
      sqlite('SQLITE_READONLY_DBMOVED'),
      postgres('53100'), // disk_full
      postgres('08006'), // connection_failure
      postgres('57P01'), // admin_shutdown
      postgres('40001'), // serialization_failure
      postgres('57014'), // query_canceled: statement_timeout
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }),
      new Error('Connection terminated unexpectedly'),
    ]) {
      assert.equal(classifyDriverError(error), 'unavailable', error.message);
    }
  });

  it('a corrupt file or page: damaged', () => {
    for (const error of [sqlite('SQLITE_CORRUPT'), sqlite('SQLITE_CORRUPT_INDEX'), sqlite('SQLITE_NOTADB'), postgres('XX001'), postgres('XX002')]) {
      assert.equal(classifyDriverError(error), 'damaged', error.message);
    }
  });

  it('a statement the database refuses: failed (a bug, not retried)', () => {
    for (const error of [sqlite('SQLITE_CONSTRAINT_NOTNULL'), sqlite('SQLITE_ERROR'), postgres('23502'), postgres('42P01')]) {
      assert.equal(classifyDriverError(error), 'failed', error.message);
    }
  });

  it('anything else is not the database’s: passed through untouched', () => {
    assert.equal(classifyDriverError(new Error('the caller changed its mind')), undefined);
    assert.equal(classifyDriverError('a string'), undefined);
    const own = new ConflictError('E_PLAN_NOT_PENDING', 'not pending');
    assert.equal(storeWriteError(own, '/state/plumbline.db'), undefined);
    assert.equal(storeWriteError(new TypeError('x is undefined'), '/state/plumbline.db'), undefined);
  });
});

describe('the typed store errors', () => {
  it('a failed write is E_STORE_WRITE, transient, naming the database, the driver error kept as cause', () => {
    const cause = sqlite('SQLITE_FULL');
    const error = storeWriteError(cause, '/state/plumbline.db')!;
    assert.equal(error.code, 'E_STORE_WRITE');
    assert.equal(error.retry, 'transient');
    assert.equal(error.cause, cause);
    assert.match(error.message, /^\/state\/plumbline\.db: a store write failed and was rolled back: sqlite says SQLITE_FULL \(SQLITE_FULL\)$/);
    assert.match(error.hint!, /free disk space/);
  });

  it('a failed read is E_STORE_READ, transient; damage is E_STORE_DAMAGED with the engine’s way back', () => {
    assert.equal(storeReadError(postgres('08006'), 'postgres://plumbline@db/plumbline')?.code, 'E_STORE_READ');
    const sqliteDamage = storeReadError(sqlite('SQLITE_CORRUPT'), '/state/plumbline.db')!;
    assert.equal(sqliteDamage.code, 'E_STORE_DAMAGED');
    assert.equal(sqliteDamage.retry, 'stalled');
    assert.match(sqliteDamage.hint!, /-wal and -shm/);
    const pgDamage = storeWriteError(postgres('XX001'), 'postgres://plumbline@db/plumbline')!;
    assert.equal(pgDamage.code, 'E_STORE_DAMAGED');
    assert.match(pgDamage.hint!, /pg_restore/);
    assert.equal(restoreHint('postgresql://db/x'), restoreHint('postgres://db/y'));
    assert.equal(storeWriteError(sqlite('SQLITE_CONSTRAINT_NOTNULL'), '/state/plumbline.db')?.code, 'E_STORE_QUERY');
  });
});
