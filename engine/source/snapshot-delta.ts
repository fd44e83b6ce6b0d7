import { lstat, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * A snapshot of a new commit, made from the snapshot of an earlier one: a
 * hard-linked copy of the earlier tree (no file is copied), in which only the
 * paths the commit changed are removed and extracted again. A commit that
 * touches one stack of a thousand costs that stack's files, not the thousand.
 * The result is the same tree a whole extraction gives; whatever does not fit
 * these rules is extracted whole instead.
 */

/** One path `git diff-tree -r --no-renames --name-status -z` reports. */
export interface PathChange {
  /** Repository-relative, as git prints it. */
  path: string;
  /** Gone at the new commit (nothing to extract). */
  deleted: boolean;
}

/** More changes than this and the whole commit is extracted (one archive of everything is cheaper). */
export const MAX_DELTA_PATHS = 2_000;
/** The changed paths reach `git archive` as arguments: they must fit a command line with room to spare. */
const MAX_DELTA_ARGUMENT_BYTES = 64 * 1024;

/** The changes, each path once, ancestors before what is below them; undefined when git printed something unexpected. */
export function parseNameStatus(output: string): PathChange[] | undefined {
  const fields = output.split('\0');
  if (fields.at(-1) === '') fields.pop();
  if (fields.length % 2 !== 0) return undefined;
  const changes: PathChange[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const status = fields[i]!;
    const path = fields[i + 1]!;
    // Added, deleted, modified, type changed: anything else (a rename or copy
    // despite --no-renames, an unmerged entry) is not a two-tree diff we know.
    if (!/^[ADMT]$/.test(status) || path === '') return undefined;
    changes.push({ path, deleted: status === 'D' });
  }
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Whether the changes are few enough to extract apart from the rest of the tree. */
export function deltaFits(changes: readonly PathChange[]): boolean {
  if (changes.length > MAX_DELTA_PATHS) return false;
  let bytes = 0;
  for (const change of changes) bytes += Buffer.byteLength(change.path) + 1;
  return bytes <= MAX_DELTA_ARGUMENT_BYTES;
}

/** `.gitattributes` can make an archive differ at unchanged paths (export-subst, export-ignore): such trees are extracted whole. */
export function hasAttributes(paths: Iterable<string>): boolean {
  for (const path of paths) if (path === '.gitattributes' || path.endsWith('/.gitattributes')) return true;
  return false;
}

/**
 * Remove every changed path from `dir`, the hard-linked copy of the earlier
 * snapshot. Ancestors come first, so a folder that became a link (or a link
 * that became a folder) is gone before anything below it is touched; a link
 * met on the way to a path is never followed (it would lead the removal out
 * of the snapshot), and throws instead.
 */
export async function removeChanged(dir: string, changes: readonly PathChange[]): Promise<void> {
  for (const change of changes) {
    await requireRealParents(dir, change.path);
    await rm(join(dir, change.path), { recursive: true, force: true });
  }
}

/**
 * Folders left empty by deleted files go too: Git keeps no empty folders, so
 * a whole extraction has none.
 */
export async function pruneEmptyFolders(dir: string, changes: readonly PathChange[]): Promise<void> {
  for (const change of changes) {
    if (!change.deleted) continue;
    for (let parent = dirname(change.path); parent !== '.' && parent !== '/'; parent = dirname(parent)) {
      const removed = await rmdir(join(dir, parent)).then(
        () => true,
        () => false,
      );
      if (!removed) break;
    }
  }
}

async function requireRealParents(dir: string, path: string): Promise<void> {
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i += 1) {
    const parent = segments.slice(0, i).join('/');
    const info = await lstat(join(dir, parent)).catch(() => null);
    // Nothing there: nothing below it to remove either.
    if (!info) return;
    if (!info.isDirectory()) throw new Error(`${parent} is not a folder in the earlier snapshot, but the commit changes ${path} below it`);
  }
}
