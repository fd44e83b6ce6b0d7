import type { UnitDefinition } from '../definitions/types.ts';

/**
 * The units a commit sets in motion: those with a changed file inside their
 * folder. Everything else keeps its state, so a commit to one stack of a
 * thousand plans one stack.
 */
export function affectedUnits(changedPaths: readonly string[], units: readonly UnitDefinition[]): UnitDefinition[] {
  return units.filter((unit) => {
    const prefix = `${unit.path}/`;
    return changedPaths.some((p) => p.startsWith(prefix));
  });
}

/** Which unit (if any) a repository-relative file belongs to. */
export function unitForFile(file: string, units: readonly { name: string; path: string }[]): string | undefined {
  return units.find((u) => file === u.path || file.startsWith(`${u.path}/`))?.name;
}
