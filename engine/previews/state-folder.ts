import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { resetUnitState } from '../local-plan-cache.ts';
import type { StatePaths } from '../paths.ts';

/**
 * Where a preview plans a unit: a copy of the unit's state (the real state is
 * never handed to the tool, so a preview can neither lock it nor write it),
 * in a folder that stays put across previews, `previews/units/<unit>/`, so
 * what the provider keeps there that holds no state (its `stateDirCaches`:
 * Terraform's data dir) is reused: a preview of an unchanged stack does not
 * init again. Before each preview it is emptied of everything but those caches
 * and the real state is copied in, without the real folder's caches (their
 * init was for the real state's path, so they could not be reused; for a
 * provider-heavy stack they are large). After the preview it is emptied again:
 * between previews it holds no state of its own.
 *
 * One preview at a time uses a unit's folder. A second preview of the same
 * unit meanwhile (another branch) plans in a throw-away folder of its run, as
 * every preview did before, rather than waiting: waiting would hold one of the
 * few preview slots idle behind a plan that may take minutes, and the fallback
 * costs no more than an init. The lock is this process's own: one daemon per
 * state directory (daemon.lock), and the daemon lock's file cannot exclude a
 * second user within one process (it takes over a lock of its own pid).
 */

/** Preview state folders in use now (and folders being removed), by path. */
const inUse = new Set<string>();

export interface PreviewStateFolder {
  dir: string;
  /** True: the unit's own preview folder (caches reused); false: a throw-away folder. */
  stable: boolean;
  /** Empties the folder of state (the stable one) or removes it (a throw-away one). */
  release(): Promise<void>;
}

/**
 * The unit's preview folder, taken for one preview and filled with a copy of
 * its state; `scratch` (a folder of the run) when another preview uses it.
 */
export async function takePreviewStateFolder(paths: StatePaths, unit: string, caches: readonly string[], scratch: string): Promise<PreviewStateFolder> {
  const stable = paths.previewState(unit);
  const dir = inUse.has(stable) ? scratch : stable;
  const release = async () => {
    try {
      if (dir === stable) await resetUnitState(dir, caches);
      else await rm(dir, { recursive: true, force: true });
    } finally {
      if (dir === stable) inUse.delete(stable);
    }
  };
  if (dir === stable) inUse.add(stable);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await resetUnitState(dir, caches);
    await copyState(paths.unitState(unit), dir, caches);
  } catch (error) {
    await release();
    throw error;
  }
  return { dir, stable: dir === stable, release };
}

/** Everything in the unit's real state folder but its caches, into `dir` (nothing: a unit never run). */
async function copyState(real: string, dir: string, caches: readonly string[]): Promise<void> {
  const names = await readdir(real).catch((error: NodeJS.ErrnoException) => {
    // An unreadable state folder must fail the preview, not plan as if the unit managed nothing.
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  for (const name of names.filter((n) => !caches.includes(n))) {
    await cp(join(real, name), join(dir, name), { recursive: true, force: true, errorOnExist: false, verbatimSymlinks: true });
  }
}

/**
 * Remove a unit's preview folder (the unit was pruned, or is no longer
 * defined), unless a preview uses it now: then false, and a later cleanup
 * removes it. A preview starting meanwhile plans in a throw-away folder.
 */
export async function removePreviewState(paths: StatePaths, unit: string): Promise<boolean> {
  return removePreviewFolder(paths.previewState(unit));
}

/**
 * The daemon's cleanup: remove the preview folders of units the store does not
 * know (pruned, forgotten, or defined only on a branch) that no preview uses.
 */
export async function removeUnknownPreviewStates(paths: StatePaths, fileNamesOfKnownUnits: ReadonlySet<string>): Promise<number> {
  const names = await readdir(paths.previewStates).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names.filter((n) => !fileNamesOfKnownUnits.has(n))) {
    if (await removePreviewFolder(join(paths.previewStates, name))) removed += 1;
  }
  return removed;
}

async function removePreviewFolder(dir: string): Promise<boolean> {
  if (inUse.has(dir)) return false;
  inUse.add(dir);
  try {
    await rm(dir, { recursive: true, force: true });
    return true;
  } finally {
    inUse.delete(dir);
  }
}
