import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { acquireDaemonLock } from './daemon-lock.ts';
import type { Logger } from './log.ts';
import { statePaths } from './paths.ts';

/**
 * Where `plumbline plan DIR` (without `--config`) keeps, across runs, what a
 * later plan of the same directory can reuse: each unit's tool caches (for
 * Terraform, its data dir: a plan of an unchanged stack skips `init`), the
 * plugin cache and the sandbox probe. Never state: every plan still runs
 * against an empty state (`resetUnitState`).
 *
 * One folder per resolved directory under `$XDG_CACHE_HOME/plumbline/`
 * (`~/.cache/plumbline/` without it), private (0700). One plan at a time
 * uses it, under the state folder's lock: a second plan of the same
 * directory meanwhile runs in its scratch folder, as every plan did before.
 *
 * Each use touches the folder's `last-used` file; the folders of directories
 * not planned for UNUSED_DAYS are removed by a later plan (`pruneUnused`), so
 * the cache does not grow with every checkout ever planned.
 */

/** A plan folder unused this long is removed by the next plan of any directory. */
export const UNUSED_DAYS = 30;
const LAST_USED = 'last-used';

export interface LocalPlanState {
  stateDir: string;
  /** True: the persistent folder (caches kept); false: the scratch folder. */
  persistent: boolean;
  release(): Promise<void>;
}

/** The persistent folder of the directory `root`, locked, or `scratch` when that cannot be had. */
export async function localPlanState(root: string, scratch: string, log: Logger): Promise<LocalPlanState> {
  const fallback: LocalPlanState = { stateDir: scratch, persistent: false, release: async () => undefined };
  const stateDir = cacheFolderOf(root);
  try {
    await privateFolder(stateDir);
    const release = await acquireDaemonLock(statePaths(stateDir).lockFile);
    await markUsed(stateDir);
    return {
      stateDir,
      persistent: true,
      release: async () => {
        await release();
        await pruneUnused(dirname(stateDir), { keep: basename(stateDir), log });
      },
    };
  } catch (error) {
    // Locked by another plan of this directory, or a cache folder that cannot be written: plan from scratch.
    log.debug({ cache: stateDir, err: (error as Error).message }, 'local plan: the cache folder is not usable now, planning in a scratch folder');
    return fallback;
  }
}

/** `$XDG_CACHE_HOME/plumbline/plan-<hash of the resolved directory>` (an XDG_CACHE_HOME that is not absolute is ignored, as the specification says). */
export function cacheFolderOf(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'plumbline', `plan-${createHash('sha256').update(root).digest('hex').slice(0, 16)}`);
}

async function markUsed(dir: string): Promise<void> {
  const file = join(dir, LAST_USED);
  const now = new Date();
  await utimes(file, now, now).catch(() => writeFile(file, '', { mode: 0o600 }));
}

/**
 * Remove the plan folders under `base` (other than `keep`) last used more than
 * `unusedDays` ago. Each is removed under its own lock, so a plan using it
 * meanwhile keeps it; one that cannot be removed now is left for a later plan.
 * A folder from before `last-used` existed is judged by its own time.
 */
export async function pruneUnused(base: string, options: { keep?: string; unusedDays?: number; now?: number; log?: Logger } = {}): Promise<string[]> {
  const cutoff = (options.now ?? Date.now()) - (options.unusedDays ?? UNUSED_DAYS) * 86_400_000;
  const names = (await readdir(base).catch(() => [] as string[])).filter((name) => /^plan-[0-9a-f]{16}$/.test(name) && name !== options.keep);
  const removed: string[] = [];
  for (const name of names) {
    const dir = join(base, name);
    try {
      const info = await lstat(join(dir, LAST_USED)).catch(() => lstat(dir));
      if (info.mtimeMs >= cutoff) continue;
      await acquireDaemonLock(statePaths(dir).lockFile);
      await rm(dir, { recursive: true, force: true });
      removed.push(name);
    } catch (error) {
      options.log?.debug({ cache: dir, err: (error as Error).message }, 'local plan: an unused cache folder was not removed');
    }
  }
  if (removed.length > 0) options.log?.debug({ removed }, 'local plan: unused cache folders removed');
  return removed;
}

/** Created 0700 if missing; refused when it is not a folder of this user (a link, another owner); made 0700 if it was opened up. */
async function privateFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) throw new Error(`${dir} is not a folder of this user`);
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/**
 * Empty a unit's state folder of everything but `caches` (entries its
 * provider declares hold no state), so the plan runs against no state.
 */
export async function resetUnitState(unitStateDir: string, caches: readonly string[]): Promise<void> {
  const names = await readdir(unitStateDir).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => !caches.includes(name)).map((name) => rm(join(unitStateDir, name), { recursive: true, force: true })));
}
