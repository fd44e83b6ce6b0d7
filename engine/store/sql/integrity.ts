import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { isDamagedSqliteCode } from './errors.ts';

/**
 * Checks that find a damaged SQLite file. The header check reads 100 bytes;
 * `quick_check` reads every page (a garbled page fails it) and runs in a
 * worker thread, so however large the database, the daemon's event loop is
 * never blocked by it.
 */

const MAGIC = 'SQLite format 3\0';

/** What is wrong with the file's header, or undefined. Catches a file that is not SQLite's and one cut short. */
export async function headerProblem(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const header = Buffer.alloc(100);
    const { bytesRead } = await handle.read(header, 0, 100, 0);
    if (bytesRead < 100) return `the file is ${size} bytes long, shorter than a SQLite header (truncated)`;
    if (header.toString('latin1', 0, 16) !== MAGIC) return 'the file does not start with the SQLite header (overwritten, or not a database)';
    const rawPageSize = header.readUInt16BE(16);
    const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize;
    const pages = header.readUInt32BE(28);
    // The size in the header counts only when SQLite wrote it with the current change counter.
    const sizeIsValid = header.readUInt32BE(24) === header.readUInt32BE(92) && pages > 0;
    if (sizeIsValid && size < pages * pageSize) {
      return `the file is ${size} bytes long, but its header says ${pages} pages of ${pageSize} bytes (${pages * pageSize} bytes): truncated`;
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/** Plain CommonJS for the worker: it loads the same native driver on a read-only connection of its own. */
const QUICK_CHECK = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true, timeout: workerData.timeoutMs });
  const rows = db.pragma('quick_check(20)');
  parentPort.postMessage({ problems: rows.map((r) => r.quick_check).filter((r) => r !== 'ok') });
} catch (error) {
  parentPort.postMessage({ error: { message: String(error && error.message), code: error && error.code } });
} finally {
  if (db) db.close();
}
`;

export type QuickCheck =
  | { ok: true }
  /** The file is damaged: SQLite's findings (at most 20), or the error reading it raised. */
  | { ok: false; problems: string[]; code?: string }
  /** The check itself could not run (not a finding about the file). */
  | { ok: undefined; error: string };

export interface RunningCheck {
  result: Promise<QuickCheck>;
  /** Stop waiting (the store is closing). */
  stop(): void;
}

export function quickCheck(file: string, timeoutMs: number): RunningCheck {
  const worker = new Worker(QUICK_CHECK, { eval: true, workerData: { driver: DRIVER, file, timeoutMs } });
  const result = new Promise<QuickCheck>((resolve) => {
    worker.once('message', (message: { problems?: string[]; error?: { message: string; code?: string } }) => {
      if (message.problems) resolve(message.problems.length === 0 ? { ok: true } : { ok: false, problems: message.problems });
      else if (message.error && isDamagedSqliteCode(message.error.code)) {
        resolve({ ok: false, problems: [message.error.message], ...(message.error.code ? { code: message.error.code } : {}) });
      } else resolve({ ok: undefined, error: message.error?.message ?? 'no answer' });
    });
    worker.once('error', (error) => resolve({ ok: undefined, error: error.message }));
    worker.once('exit', () => resolve({ ok: undefined, error: 'the check was stopped' }));
  });
  return { result, stop: () => void worker.terminate() };
}
