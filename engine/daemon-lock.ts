import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { PlumblineError } from './errors.ts';

/**
 * One daemon per state directory. The lock file holds its owner's pid and is
 * created with that content in one step (a hard link of a finished temp file),
 * so nobody ever reads it empty. A lock left by a dead process is taken over:
 * it is moved aside atomically, and if what was moved turns out to be another
 * live daemon's fresh lock, it is put back and this start gives up.
 */
export async function acquireDaemonLock(file: string): Promise<() => Promise<void>> {
  const mine = `${file}.${process.pid}.tmp`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await link(mine, file);
        return async () => {
          if ((await ownerOf(file)) === process.pid) await rm(file, { force: true });
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await ownerOf(file);
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw locked(owner, file);
      const aside = `${file}.stale-${process.pid}`;
      try {
        await rename(file, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // someone else moved it
        throw error;
      }
      const moved = await ownerOf(aside);
      if (moved !== undefined && moved !== owner && isAlive(moved)) {
        // We raced another daemon that had just taken the stale lock over: give it back.
        await link(aside, file).catch(() => undefined);
        await rm(aside, { force: true });
        throw locked(moved, file);
      }
      await rm(aside, { force: true });
    }
    throw new PlumblineError('E_STATE_DIR_LOCKED', `could not take the daemon lock ${file}`, { retry: 'transient', hint: 'start the daemon again' });
  } finally {
    await rm(mine, { force: true });
  }
}

async function ownerOf(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function locked(pid: number, file: string): PlumblineError {
  return new PlumblineError('E_STATE_DIR_LOCKED', `another Plumbline daemon (pid ${pid}) uses this state directory`, {
    retry: 'stalled',
    hint: `stop that daemon, or give this one another stateDir (lock: ${file})`,
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
