import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';

/**
 * A path a manifest names (entry, playbook, inventory, knownHostsFile, watch)
 * is written relative to the unit folder and may lead anywhere inside the
 * repository (`../../site.yml`, Ansible's documented layout), never outside
 * it: a run reads only what the commit holds, never the control host's files.
 * Checked lexically (`..`, absolute paths) and on disk (symlinks), so a link
 * committed to Git cannot lead a run outside either.
 */

export interface UnitFolder {
  /** Absolute path on disk. */
  dir: string;
  /** Repository-relative, forward slashes (`stacks/web`). */
  path: string;
  /** For messages: "stack folder" or "inventory folder". */
  label: string;
  /** Absolute real path of the repository root. */
  root: string;
  /**
   * Filled by `resolveInUnit`: every repository path resolved, as named and
   * as its real path (a manifest is read again when one of them changes).
   * A provider's manifest `read` reaches paths beyond its folder only through
   * `resolveInUnit`.
   */
  reached?: string[];
}

export type Resolved =
  | { ok: true; /** Repository-relative, forward slashes. */ path: string; isFile: boolean; exists: boolean }
  | { ok: false; message: string };

const ESCAPE_HINT = 'paths are relative to the unit folder and must stay inside the repository';

/** The repository-relative form of `value` (relative to the unit folder), or why it has none. */
export function repoPathOf(unit: Pick<UnitFolder, 'path' | 'label'>, value: string): { ok: true; path: string } | { ok: false; message: string } {
  if (isAbsolute(value) || /^[A-Za-z]:[\\/]/.test(value)) {
    return { ok: false, message: `must be a path relative to the ${unit.label} ${unit.path}, not an absolute path (got ${JSON.stringify(value)})` };
  }
  const normalized = posix.normalize(`${unit.path}/${value}`).replace(/\/$/, '');
  if (normalized === '..' || normalized.startsWith('../')) {
    return { ok: false, message: `${JSON.stringify(value)} leads outside the repository (${ESCAPE_HINT})` };
  }
  return { ok: true, path: normalized === '.' ? '' : normalized };
}

export async function resolveInUnit(unit: UnitFolder, value: string, options: { mustExist: boolean }): Promise<Resolved> {
  const lexical = repoPathOf(unit, value);
  if (!lexical.ok) return lexical;
  unit.reached?.push(lexical.path);
  const absolute = join(unit.root, lexical.path);
  const shown = lexical.path || '.';
  const info = await stat(absolute).catch(() => null);
  if (!info && (await lstat(absolute).catch(() => null))?.isSymbolicLink()) {
    return { ok: false, message: `${JSON.stringify(value)} is a broken symlink (${shown})` };
  }
  if (!info && options.mustExist) {
    return { ok: false, message: `${JSON.stringify(value)} does not exist (looked for ${shown} in the repository)` };
  }
  // A path that does not exist yet is judged by the nearest folder that does.
  const real = await realpath(info ? absolute : await nearestExisting(absolute));
  unit.reached?.push(relative(unit.root, real));
  if (!isInside(unit.root, real)) {
    return { ok: false, message: `${JSON.stringify(value)} is a symlink that leads outside the repository (${ESCAPE_HINT})` };
  }
  return { ok: true, path: lexical.path, isFile: info?.isFile() ?? false, exists: info !== null };
}

export function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function nearestExisting(path: string): Promise<string> {
  let current = dirname(path);
  for (;;) {
    if (await stat(current).then(() => true, () => false)) return current;
    const parent = dirname(current);
    if (parent === current) return current;
    current = parent;
  }
}
