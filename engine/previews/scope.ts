import { topologicalOrder } from '../definitions/graph.ts';
import { covers, touchedPath, type UnitReads } from '../definitions/reads.ts';
import type { UnitDefinition } from '../definitions/types.ts';
import { downstreamOf } from '../controller/dependencies.ts';

/**
 * What a branch's preview plans, upstream first: the units it changed since
 * its merge base (new units, and those that read a changed path, as the
 * watched branch's reads say, the same rule a commit on the branch uses), and
 * every unit downstream of them.
 */
export function previewScope(input: {
  changed: readonly string[];
  /** The units as the branch's head defines them. */
  units: readonly UnitDefinition[];
  /** Units the watched branch knows, and what each reads there (undefined: never read). */
  known: ReadonlyMap<string, UnitReads | undefined>;
}): UnitDefinition[] {
  const touched = input.units.filter((unit) => {
    if (!input.known.has(unit.name)) return true;
    const reads = input.known.get(unit.name);
    return reads ? touchedPath(reads, input.changed) !== undefined : input.changed.some((path) => covers(unit.path, path));
  });
  const names = new Set([...touched.map((u) => u.name), ...downstreamOf(touched.map((u) => u.name), input.units)]);
  return topologicalOrder(input.units.filter((u) => names.has(u.name)));
}
