import { rm } from 'node:fs/promises';
import type { StatePaths } from '../paths.ts';
import { removePreviewState } from '../previews/state-folder.ts';

/**
 * A pruned unit's folders, once nothing is left to manage (its destroy
 * applied, a destroy plan that found nothing, a unit never applied, a tool
 * that keeps no state): its state folder, caches included, and its preview
 * folders go with its record. Never called for a unit the store
 * merely does not know: a store restored from an older backup must not cost
 * the state of the units it forgot.
 */
export async function removePrunedUnitFolders(paths: StatePaths, unit: string): Promise<void> {
  await rm(paths.unitState(unit), { recursive: true, force: true });
  // Its preview folders too; one a preview uses now is left to the next cleanup (gc.ts).
  await removePreviewState(paths, unit);
}
