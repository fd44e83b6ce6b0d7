import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isInside } from './unit-paths.ts';

/**
 * Symlinks committed to the repository whose target resolves outside it
 * (`main.tf -> /etc/passwd`, `roles -> ../../../../srv/roles`): a run must
 * never read the control host's files through one. Only what a unit reads is
 * walked, so a run pays for its own inputs and nothing else.
 */
export interface EscapingLink {
  /** Repository-relative path of the link. */
  path: string;
  /** The link's target as committed. */
  target: string;
}

/** Links never followed into: tool caches and dependencies a run may create. */
const SKIPPED = new Set(['.terraform', 'node_modules', 'cdktf.out', '.git']);

export async function findEscapingLinks(repoDir: string, paths: readonly string[]): Promise<EscapingLink[]> {
  const root = await realpath(repoDir);
  const found: EscapingLink[] = [];
  const seen = new Set<string>();
  const visit = async (path: string): Promise<void> => {
    if (seen.has(path)) return;
    seen.add(path);
    const absolute = join(root, path);
    const info = await lstat(absolute).catch(() => null);
    if (!info) return;
    if (info.isSymbolicLink()) {
      const target = await readlink(absolute);
      // Resolved where it lies in the repository; a dangling link is judged by its text.
      const real = await realpath(absolute).catch(() => resolve(dirname(absolute), target));
      if (!isInside(root, real)) found.push({ path, target });
      return;
    }
    if (!info.isDirectory()) return;
    const entries = await readdir(absolute);
    for (const entry of entries) if (!SKIPPED.has(entry)) await visit(path ? `${path}/${entry}` : entry);
  };
  for (const path of paths) await visit(path);
  return found.sort((a, b) => a.path.localeCompare(b.path));
}
