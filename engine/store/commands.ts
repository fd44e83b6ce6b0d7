import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { acquireDaemonLock } from '../daemon-lock.ts';
import { isPlumblineError, PlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { statePaths } from '../paths.ts';
import { backupStoreOf, migrateStoreOf, type PreparedStore } from './open.ts';
import { SQLITE_FILE } from './sql/sqlite.ts';

/**
 * `plumbline migrate --config F`: what the daemon does to its store at start
 * (migrations, then a JSON-file store left by an older version imported), by
 * hand, with the daemon stopped.
 */
export async function migrateCommand(configFile: string, log: Logger): Promise<PreparedStore & { location: string }> {
  const config = await loadConfig(configFile);
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  let release: () => Promise<void>;
  try {
    release = await acquireDaemonLock(statePaths(config.stateDir).lockFile);
  } catch (error) {
    if (isPlumblineError(error) && error.code === 'E_STATE_DIR_LOCKED') {
      throw new PlumblineError('E_STATE_DIR_LOCKED', `${error.message}: it brought the store up to date when it started`, {
        retry: 'stalled',
        cause: error,
        hint: 'nothing to do while it runs; stop it first to run plumbline migrate by hand',
      });
    }
    throw error;
  }
  try {
    return await migrateStoreOf(config, log);
  } finally {
    await release();
  }
}

/**
 * `plumbline backup --config F --to FILE`: a consistent copy while the daemon
 * runs (it takes no lock). SQLite: a database file, restored by copying it to
 * `<stateDir>/plumbline.db` with the daemon stopped. PostgreSQL: a `pg_dump`
 * custom-format archive, restored with `pg_restore`.
 */
export async function backupCommand(configFile: string, to: string, log: Logger): Promise<{ location: string; file: string; bytes: number }> {
  const config = await loadConfig(configFile);
  const file = resolve(to);
  const live = join(config.stateDir, SQLITE_FILE);
  if ([live, `${live}-wal`, `${live}-shm`].includes(file)) {
    throw new PlumblineError('E_BACKUP_TARGET', `--to ${file} is the store's own database`, { hint: 'write the backup anywhere else, preferably on another disk' });
  }
  if (!(await stat(dirname(file)).catch(() => undefined))?.isDirectory()) {
    throw new PlumblineError('E_BACKUP_TARGET', `the folder of --to ${file} does not exist`, { hint: 'create it first, or pass another path' });
  }
  const { location } = await backupStoreOf(config, file, log);
  return { location, file, bytes: (await stat(file)).size };
}
