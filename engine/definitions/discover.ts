import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimit } from '../concurrency.ts';
import type { Problem } from '../errors.ts';
import type { ManifestFile } from '../provider.ts';

/**
 * Where definitions live: each provider's manifest in any folder under its
 * top folder, at any depth (a `stack.yaml` under `stacks/`, an
 * `inventory.yaml` under `inventories/`, `stacks/prod/eu-west-1/vpc/stack.yaml`).
 * A folder with a manifest is a unit and its subfolders belong to it (a
 * stack's own `modules/`); other folders are searched further. A manifest with the wrong extension is almost
 * surely a unit someone meant to define, so it is reported, never ignored.
 */

export interface ManifestLocation {
  /** The manifest this folder holds. */
  manifest: ManifestFile;
  /** Its unit type (`stack`). */
  type: string;
  /** The name the folder gives: its path below `stacks/` or `inventories/` (`prod/vpc`). */
  name: string;
  /** Absolute folder. */
  dir: string;
  /** Repository-relative folder (`stacks/prod/vpc`). */
  path: string;
  /** Repository-relative manifest (`stacks/prod/vpc/stack.yaml`). */
  file: string;
}

/** Folders that never hold definitions: tool caches, dependencies, VCS data. */
const NEVER_SEARCHED = new Set(['node_modules', '.terraform', 'cdktf.out', '.git']);
/** Deeper than this is a mistake (or a link loop), not a layout. */
const MAX_DEPTH = 12;
/** Folders listed at once. */
const CONCURRENCY = 32;

export async function discoverManifests(root: string, manifests: readonly ManifestFile[]): Promise<{
  found: ManifestLocation[];
  /** Folders that look like units but whose manifest is misnamed. */
  misnamed: ManifestLocation[];
  problems: Problem[];
}> {
  const found: ManifestLocation[] = [];
  const misnamed: ManifestLocation[] = [];
  const problems: Problem[] = [];
  for (const file of manifests) {
    const { type, folder, fileName: manifest } = file;
    const wrong = manifest.replace(/\.yaml$/, '.yml');
    // Breadth first, one level at a time, each level listed in parallel.
    let level: string[] = [folder];
    for (let depth = 0; level.length > 0; depth++) {
      const listings = await mapLimit(level, CONCURRENCY, (path) => readdir(join(root, path), { withFileTypes: true }).catch(() => null));
      const next: string[] = [];
      for (const [index, path] of level.entries()) {
        const entries = listings[index];
        if (!entries) continue;
        const names = new Set(entries.map((e) => e.name));
        const location = { manifest: file, type, name: path.slice(folder.length + 1), dir: join(root, path), path, file: `${path}/${manifest}` };
        if (depth > 0 && names.has(manifest)) {
          found.push(location);
          continue;
        }
        if (depth > 0 && names.has(wrong)) {
          misnamed.push(location);
          problems.push({
            file: `${path}/${wrong}`,
            line: 1,
            column: 1,
            message: `a ${type} manifest must be named ${manifest} (found ${wrong}); rename it so Plumbline reads it`,
            unit: location.name,
          });
          continue;
        }
        if (depth >= MAX_DEPTH) continue;
        for (const entry of entries) {
          if ((entry.isDirectory() || entry.isSymbolicLink()) && !entry.name.startsWith('.') && !NEVER_SEARCHED.has(entry.name)) {
            next.push(`${path}/${entry.name}`);
          }
        }
      }
      level = next.sort();
    }
  }
  found.sort((a, b) => a.path.localeCompare(b.path));
  return { found, misnamed, problems };
}
