import { readFile, rm, writeFile } from 'node:fs/promises';
import { PlumblineError } from './errors.ts';

/**
 * One daemon per state directory. The lock records its owner's pid, so a lock
 * left by a process that died is recognised and taken over instead of blocking
 * the next start forever.
 */
export async function acquireDaemonLock(file: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        const owner = await readFile(file, 'utf8').catch(() => '');
        if (owner.trim() === String(process.pid)) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new PlumblineError('E_STATE_DIR_LOCKED', `another Plumbline daemon (pid ${pid}) uses this state directory`, {
          retry: 'stalled',
          hint: `stop that daemon, or give this one another stateDir (lock: ${file})`,
        });
      }
      await rm(file, { force: true });
    }
  }
  throw new PlumblineError('E_STATE_DIR_LOCKED', `could not take the daemon lock ${file}`, { retry: 'transient' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
