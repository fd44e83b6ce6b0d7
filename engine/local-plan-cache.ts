import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
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
 */

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
    return { stateDir, persistent: true, release };
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
