import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimit } from '../concurrency.ts';
import type { Problem } from '../errors.ts';

/**
 * Where definitions live: `stacks/<name>/stack.yaml` and
 * `inventories/<name>/inventory.yaml`, one level deep. Other folders there
 * (shared modules, roles) are not units and are left alone, unless they hold
 * a manifest with the wrong extension: that is almost surely a unit someone
 * meant to define, and silently ignoring it would be worse.
 */

export type UnitType = 'stack' | 'inventory';

export interface ManifestLocation {
  type: UnitType;
  name: string;
  /** Absolute folder. */
  dir: string;
  /** Repository-relative folder (`stacks/web`). */
  path: string;
  /** Repository-relative manifest (`stacks/web/stack.yaml`). */
  file: string;
}

const LAYOUT: readonly { type: UnitType; folder: string; manifest: string }[] = [
  { type: 'stack', folder: 'stacks', manifest: 'stack.yaml' },
  { type: 'inventory', folder: 'inventories', manifest: 'inventory.yaml' },
];

export async function discoverManifests(root: string): Promise<{
  found: ManifestLocation[];
  /** Folders that look like units but whose manifest is misnamed. */
  misnamed: ManifestLocation[];
  problems: Problem[];
}> {
  const found: ManifestLocation[] = [];
  const misnamed: ManifestLocation[] = [];
  const problems: Problem[] = [];
  for (const { type, folder, manifest } of LAYOUT) {
    const entries = await readdir(join(root, folder), { withFileTypes: true }).catch(() => []);
    const names = entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name).sort();
    const listings = await mapLimit(names, 32, (name) => readdir(join(root, folder, name)).catch(() => null));
    for (const [index, name] of names.entries()) {
      const dir = join(root, folder, name);
      const files = listings[index];
      if (!files) continue;
      const location = { type, name, dir, path: `${folder}/${name}`, file: `${folder}/${name}/${manifest}` };
      if (files.includes(manifest)) {
        found.push(location);
        continue;
      }
      const wrong = manifest.replace(/\.yaml$/, '.yml');
      if (files.includes(wrong)) {
        misnamed.push(location);
        problems.push({
          file: `${folder}/${name}/${wrong}`,
          line: 1,
          column: 1,
          message: `a ${type} manifest must be named ${manifest} (found ${wrong}); rename it so Plumbline reads it`,
        });
      }
    }
  }
  return { found, misnamed, problems };
}
