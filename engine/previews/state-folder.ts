import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, rm, rmdir, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../fs.ts';
import { resetUnitState } from '../local-plan-cache.ts';
import type { StatePaths } from '../paths.ts';

/**
 * Where a preview plans a unit: a copy of the unit's state (the real state is
 * never handed to the tool, so a preview can neither lock it nor write it),
 * in a folder that stays put across previews of the same ref,
 * `previews/units/<unit>/<ref key>/`, so what the provider keeps there that
 * holds no state (its `stateDirCaches`: Terraform's data dir) is reused: a
 * later preview of the same branch whose stack did not change does not init
 * again. Before each preview it is emptied of everything but those caches and
 * the real state is copied in, without the real folder's caches (their init
 * was for the real state's path, so they could not be reused; for a
 * provider-heavy stack they are large). After the preview it is emptied again:
 * between previews it holds no state of its own.
 *
 * Keyed by unit AND ref: the caches are written by the branch's own code at
 * plan time (a provider binary planted in the data dir, a forged init
 * fingerprint that makes the next preview skip init, whatever an `external`
 * data source writes), so they are only as trusted as that branch. Shared
 * between branches, one branch could shape the plan another branch's
 * reviewers read; keyed by ref, only later previews of the same branch reuse
 * them, and another branch starts from an empty data dir and inits. The ref
 * part is a hash of the ref name (previewRefKey), so a ref cannot shape a
 * path; the unit part stays readable. The folders of a ref go when the ref
 * is no longer previewed (manager.ts when its head is gone, and gc.ts), those
 * of a unit with the unit.
 *
 * One preview at a time uses a folder. A second preview of the same unit and
 * ref meanwhile (a newer head while the older one's plan still winds down)
 * plans in a throw-away folder of its run, as every preview did before, rather
 * than waiting: waiting would hold one of the few preview slots idle behind a
 * plan that may take minutes, and the fallback costs no more than an init. The
 * lock is this process's own: one daemon per state directory (daemon.lock),
 * and the daemon lock's file cannot exclude a second user within one process
 * (it takes over a lock of its own pid).
 */

/** The ref's part of its preview folders' paths: a hash of its name, so no ref name can shape a path. */
export function previewRefKey(ref: string): string {
  return createHash('sha256').update(ref).digest('hex').slice(0, 24);
}

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
 * The preview folder of the unit and ref, taken for one preview and filled with a copy of
 * its state; `scratch` (a folder of the run) when another preview uses it.
 */
export async function takePreviewStateFolder(paths: StatePaths, unit: string, ref: string, caches: readonly string[], scratch: string): Promise<PreviewStateFolder> {
  const stable = paths.previewState(unit, previewRefKey(ref));
  const dir = inUse.has(stable) ? scratch : stable;
  const release = async () => {
    try {
      if (dir === stable) {
        await resetUnitState(dir, caches);
        // Its last use, which the cleanup's grace counts from.
        const now = new Date();
        await utimes(dir, now, now);
      } else await rm(dir, { recursive: true, force: true });
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
 * Remove a unit's preview folders (the unit was pruned, or is no longer
 * defined), but those a preview uses now: then false, and a later cleanup
 * removes them. A preview starting meanwhile plans in a throw-away folder.
 */
export async function removePreviewState(paths: StatePaths, unit: string): Promise<boolean> {
  await removeUnitFolders(paths.previewUnitStates(unit), () => false);
  return !(await pathExists(paths.previewUnitStates(unit)));
}

/** Remove every unit's preview folder of a ref no longer previewed (its head is gone), but one in use. */
export async function removePreviewStatesOfRef(paths: StatePaths, ref: string): Promise<number> {
  const key = previewRefKey(ref);
  let removed = 0;
  for (const unit of await readdir(paths.previewStates).catch(() => [] as string[])) {
    const dir = join(paths.previewStates, unit, key);
    if ((await pathExists(dir)) && (await removePreviewFolder(dir))) removed += 1;
    // The unit's folder too, once it holds no other ref's.
    await rmdir(join(paths.previewStates, unit)).catch(() => undefined);
  }
  return removed;
}

/** A ref's folder left alone this long after its last preview may be removed though the store shows no preview of it. */
export const PREVIEW_FOLDER_GRACE_MS = 3_600_000;

/**
 * The daemon's cleanup: remove the preview folders of units the store does not
 * know (pruned, forgotten, or defined only on a branch), and those of refs no
 * longer previewed: neither among `openRefs` (the refs of the preview plans
 * the store holds) nor used in the last PREVIEW_FOLDER_GRACE_MS (a ref whose
 * newer head is not planned yet has no preview plan for a while, nor has
 * anything just after a restart). Never a folder a preview uses. The number
 * of ref folders removed.
 */
export async function removeUnknownPreviewStates(
  paths: StatePaths,
  fileNamesOfKnownUnits: ReadonlySet<string>,
  openRefs: Iterable<string>,
  now = Date.now(),
): Promise<number> {
  const open = new Set([...openRefs].map(previewRefKey));
  let removed = 0;
  for (const name of await readdir(paths.previewStates).catch(() => [] as string[])) {
    const known = fileNamesOfKnownUnits.has(name);
    removed += await removeUnitFolders(join(paths.previewStates, name), async (key, dir) => {
      if (!known) return false;
      if (open.has(key)) return true;
      const used = await stat(dir).then((s) => s.mtimeMs).catch(() => 0);
      return now - used < PREVIEW_FOLDER_GRACE_MS;
    });
  }
  return removed;
}

/** Remove a unit's ref folders but those `keep` names and those in use; the unit's folder too once empty. The number removed. */
async function removeUnitFolders(unitDir: string, keep: (key: string, dir: string) => boolean | Promise<boolean>): Promise<number> {
  let removed = 0;
  for (const key of await readdir(unitDir).catch(() => [] as string[])) {
    const dir = join(unitDir, key);
    if (await keep(key, dir)) continue;
    if (await removePreviewFolder(dir)) removed += 1;
  }
  // Not empty (a folder kept, in use, or taken meanwhile): it stays.
  await rmdir(unitDir).catch(() => undefined);
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
