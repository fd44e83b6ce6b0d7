import picomatch from 'picomatch';
import { asPlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Provider, ReadEntry } from '../provider.ts';
import type { UnitDefinition } from './types.ts';

/**
 * What a unit reads in the repository: its own folder, what its provider
 * finds it reads beyond it (local modules, roles, playbooks, vars files,
 * imported TypeScript), and its `watch:` globs. A commit that touches any of
 * it plans the unit; nothing else does.
 */
export interface UnitReads {
  unit: string;
  /** The commit it was read at. */
  revision: string;
  /** Repository-relative files and folders (a folder covers what is below it); the unit's own folder first. */
  entries: ReadEntry[];
  /** Repository-relative globs from the manifest's `watch:`. */
  watch: string[];
  /** What could not be followed (for `plumbline why`). */
  notes: string[];
}

export async function readsOf(unit: UnitDefinition, revision: string, repoDir: string, provider: Provider | undefined, log: Logger): Promise<UnitReads> {
  const entries: ReadEntry[] = [{ path: unit.path, why: `the ${unit.type} folder` }];
  const notes: string[] = [];
  if (provider?.reads) {
    try {
      const found = await provider.reads({ unit, repoDir, log });
      entries.push(...found.entries.filter((e) => !covers(unit.path, e.path)));
      notes.push(...(found.notes ?? []));
    } catch (error) {
      // Planning must not depend on this analysis: the folder still counts.
      const typed = asPlumblineError(error);
      log.warn({ unit: unit.name, code: typed.code, err: typed }, 'could not work out what the unit reads; only its folder counts');
      notes.push(`what ${unit.name} reads beyond its folder could not be worked out: ${typed.message}`);
    }
  }
  return { unit: unit.name, revision, entries: dedupe(entries), watch: unit.watch ?? [], notes };
}

/** The first changed path the unit reads, or undefined when the commit leaves the unit alone. */
export function touchedPath(reads: Pick<UnitReads, 'entries' | 'watch'>, changed: readonly string[]): string | undefined {
  const matchers = reads.watch.length > 0 ? picomatch(reads.watch, { dot: true }) : undefined;
  return changed.find((path) => reads.entries.some((e) => covers(e.path, path)) || matchers?.(path) === true);
}

/** Is `path` the entry itself or below it? */
export function covers(entry: string, path: string): boolean {
  return path === entry || path.startsWith(`${entry}/`);
}

/** Each path once, and none below a folder already listed. */
function dedupe(entries: ReadEntry[]): ReadEntry[] {
  const kept: ReadEntry[] = [];
  for (const entry of entries) {
    if (kept.some((k) => covers(k.path, entry.path))) continue;
    for (let i = kept.length - 1; i >= 0; i--) if (covers(entry.path, kept[i]!.path)) kept.splice(i, 1);
    kept.push(entry);
  }
  return kept;
}
