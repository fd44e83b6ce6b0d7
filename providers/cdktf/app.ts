import { join, posix } from 'node:path';
import { pathExists, ToolError, type UnitDefinition } from '../../engine/provider-kit.ts';
import type { CdktfSpec } from './manifest.ts';

/**
 * Where a CDKTF unit's app lives. The entry may be anywhere in the repository
 * (`entry: ../../app/main.ts` from `stacks/app-prod`), so several units can
 * share one app and pick one stack each. The app's folder holds its
 * package.json, lockfile and cdktf.json:
 *
 * - an entry inside the unit folder: the unit folder, as always;
 * - an entry elsewhere: the nearest folder above the entry (up to the
 *   repository root) with a package.json or cdktf.json, else the entry's folder.
 *
 * Inside the unit folder files are read from the run's writable copy; outside
 * it from the read-only repository snapshot, which is never written to.
 */

/** Files that make a folder a CDKTF app's project folder. */
const APP_MARKERS = ['package.json', 'cdktf.json'] as const;

export interface AppLocation {
  /** Repository-relative entry (`app/main.ts`). */
  entry: string;
  /** Repository-relative app folder (`app`; `` for the repository root). */
  appPath: string;
  /** Absolute app folder: the synthesis runs here, and its package.json is read here. */
  appDir: string;
  /** Absolute entry file. */
  entryFile: string;
  /** The app folder is the unit's own (writable) folder. */
  inUnit: boolean;
}

/** The unit's entry, repository-relative; refused when it leaves the repository. */
export function entryOf(unit: UnitDefinition): string {
  const spec = unit.spec as Partial<CdktfSpec>;
  const declared = spec.entry ?? `${unit.path}/main.ts`;
  const entry = posix.normalize(declared);
  if (entry === '.' || entry === '..' || entry.startsWith('../') || posix.isAbsolute(entry) || entry.endsWith('/')) {
    throw new ToolError('E_CDKTF_ENTRY', `${unit.file}: entry ${declared} is not a file inside the repository`, {
      retry: 'stalled',
      hint: `set \`entry\` to the app's entry file, relative to ${unit.path} (\`entry: main.ts\`, \`entry: ../../app/main.ts\`)`,
    });
  }
  return entry;
}

/** Is `path` (repository-relative) inside the folder `folder` (repository-relative)? */
export function isUnder(folder: string, path: string): boolean {
  return folder === '' || path === folder || path.startsWith(`${folder}/`);
}

/**
 * Locate the app of `unit` in a run's workspace (`workdir`, the unit's copy)
 * over the repository snapshot `repoDir`.
 */
export async function locateApp(unit: UnitDefinition, workdir: string, repoDir: string): Promise<AppLocation> {
  const entry = entryOf(unit);
  const absolute = (path: string): string => runPath(unit, workdir, repoDir, path);
  const entryFile = absolute(entry);
  if (!(await pathExists(entryFile))) {
    throw new ToolError('E_CDKTF_ENTRY', `${unit.file}: entry ${entry} does not exist`, {
      retry: 'stalled',
      hint: `commit ${entry}, or point \`entry\` in ${unit.file} at the file that builds the app`,
    });
  }
  const appPath = isUnder(unit.path, entry) ? unit.path : await projectFolder(posix.dirname(entry), repoDir);
  return { entry, appPath, appDir: absolute(appPath), entryFile, inUnit: appPath === unit.path };
}

/** Where a repository file is in a run: the unit's writable copy inside its folder, the snapshot elsewhere. */
export function runPath(unit: UnitDefinition, workdir: string, repoDir: string, path: string): string {
  return isUnder(unit.path, path) ? join(workdir, path.slice(unit.path.length + 1)) : join(repoDir, path);
}

/** The nearest folder from `start` up to the repository root that holds an app marker; `start` when none does. */
async function projectFolder(start: string, repoDir: string): Promise<string> {
  const from = start === '.' ? '' : start;
  for (let folder = from; ; folder = parentOf(folder)) {
    for (const marker of APP_MARKERS) {
      if (await pathExists(join(repoDir, folder, marker))) return folder;
    }
    if (folder === '') return from;
  }
}

function parentOf(folder: string): string {
  const parent = posix.dirname(folder);
  return parent === '.' ? '' : parent;
}

/** `path` (repository-relative) as it reads in messages: the root is `.`. */
export function shown(path: string): string {
  return path === '' ? '.' : path;
}

/** The repository path of `name` in the folder `folder` (`app/package.json`, or `package.json` at the root). */
export function inFolder(folder: string, name: string): string {
  return folder === '' ? name : `${folder}/${name}`;
}
