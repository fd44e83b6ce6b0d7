import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';

/**
 * A path a manifest names (entry, playbook, inventory, knownHostsFile) must
 * stay inside the unit folder: Plumbline copies only that folder into a run's
 * workspace, and a definition must not reach other units' files or the
 * control host's. Checked lexically (`..`) and on disk (symlinks), so a link
 * committed to Git cannot lead a run outside either.
 */

export interface UnitFolder {
  /** Absolute path on disk. */
  dir: string;
  /** Repository-relative, forward slashes (`stacks/web`). */
  path: string;
  /** For messages: "stack folder" or "inventory folder". */
  label: string;
}

export type Resolved =
  | { ok: true; /** Repository-relative, forward slashes. */ path: string; isFile: boolean; exists: boolean }
  | { ok: false; message: string };

const ESCAPE_HINT = 'paths must stay inside the unit folder';

export async function resolveInUnit(
  unit: UnitFolder,
  value: string,
  options: { mustExist: boolean },
): Promise<Resolved> {
  if (isAbsolute(value) || /^[A-Za-z]:[\\/]/.test(value)) {
    return { ok: false, message: `must be a path relative to the ${unit.label} ${unit.path}, not an absolute path (got ${JSON.stringify(value)})` };
  }
  const normalized = posix.normalize(value);
  if (normalized === '..' || normalized.startsWith('../')) {
    return { ok: false, message: `${JSON.stringify(value)} leads outside the ${unit.label} ${unit.path} (${ESCAPE_HINT})` };
  }
  const repoPath = normalized === '.' ? unit.path : `${unit.path}/${normalized.replace(/\/$/, '')}`;
  const absolute = join(unit.dir, normalized);
  const info = await stat(absolute).catch(() => null);
  if (!info && (await lstat(absolute).catch(() => null))?.isSymbolicLink()) {
    return { ok: false, message: `${JSON.stringify(value)} is a broken symlink in ${unit.path}` };
  }
  if (!info && options.mustExist) {
    return { ok: false, message: `${JSON.stringify(value)} does not exist in ${unit.path}` };
  }
  // A path that does not exist yet is judged by the nearest folder that does.
  const real = await realpath(info ? absolute : await nearestExisting(absolute));
  const root = await realpath(unit.dir);
  if (!isInside(root, real)) {
    return { ok: false, message: `${JSON.stringify(value)} is a symlink that leads outside the ${unit.label} ${unit.path} (${ESCAPE_HINT})` };
  }
  return { ok: true, path: repoPath, isFile: info?.isFile() ?? false, exists: info !== null };
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
