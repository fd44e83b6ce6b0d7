import { access, cp, mkdir, readdir, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { discoverManifests } from './definitions/discover.ts';
import { manifestFiles } from './definitions/manifests.ts';

/**
 * Build a run's workspace: a view of the repository at one commit in which only
 * the unit's own folder is a private, writable copy (Terraform writes
 * `.terraform/` and lock files there) and everything else links back to the
 * shared read-only snapshot, except the folders of other units, which no run
 * needs. Relative references such as
 * `source = "../../modules/vpc"` resolve exactly as in the repository, while a
 * run costs a copy of one folder, not of the whole tree.
 */
export async function createWorkspace(options: {
  snapshotDir: string;
  unitPath: string;
  treeDir: string;
  /** Names never copied (a developer's local `.terraform`, state files...). */
  exclude?: readonly string[];
  /**
   * The snapshot never changes (a commit's): which folders are units is read
   * once per snapshot and remembered, instead of probed on every run.
   */
  immutableSnapshot?: boolean;
  /** Repository paths the run reads: another unit's folder holding one of them is linked too. */
  reads?: readonly string[];
}): Promise<string> {
  const segments = options.unitPath.split('/').filter(Boolean);
  const units = options.immutableSnapshot ? await unitFoldersOf(options.snapshotDir) : undefined;
  let snapshotLevel = options.snapshotDir;
  let treeLevel = options.treeDir;
  for (const [depth, segment] of segments.entries()) {
    await mkdir(treeLevel, { recursive: true, mode: 0o700 });
    const entries = (await readdir(snapshotLevel)).filter((entry) => entry !== segment);
    // Other units' folders are never needed by this run, and in a monorepo they
    // are most of the tree: linking a thousand of them made every run slow.
    const prefix = segments.slice(0, depth).join('/');
    const isUnit = (path: string, entry: string) => (units ? Promise.resolve(units.has(path)) : isUnitFolder(join(snapshotLevel, entry)));
    const isRead = (path: string) => options.reads?.some((read) => read === path || read.startsWith(`${path}/`)) === true;
    const needed = await Promise.all(
      entries.map(async (entry) => {
        const path = prefix ? `${prefix}/${entry}` : entry;
        return (await isUnit(path, entry)) && !isRead(path) ? null : entry;
      }),
    );
    await Promise.all(
      needed.filter((entry): entry is string => entry !== null).map((entry) => symlink(join(snapshotLevel, entry), join(treeLevel, entry))),
    );
    snapshotLevel = join(snapshotLevel, segment);
    treeLevel = join(treeLevel, segment);
  }
  const exclude = new Set(options.exclude ?? []);
  await cp(snapshotLevel, treeLevel, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => !exclude.has(basename(source)) && !/\.tfstate(\.backup)?$/.test(source),
  });
  return treeLevel;
}

/** Unit folders (`stacks/web`) of the last few snapshots: runs of one commit share them. */
const unitFolderCache = new Map<string, Promise<Set<string>>>();
const UNIT_FOLDER_CACHE_SIZE = 8;

function unitFoldersOf(snapshotDir: string): Promise<Set<string>> {
  let folders = unitFolderCache.get(snapshotDir);
  if (!folders) {
    folders = discoverManifests(snapshotDir, manifestFiles()).then((found) => new Set(found.found.map((location) => location.path)));
    // A failed read is not remembered.
    folders.catch(() => unitFolderCache.delete(snapshotDir));
    remember(snapshotDir, folders);
  }
  return folders;
}

/**
 * The unit folders of an immutable snapshot, as the definitions just read
 * there found them (`loadDefinitions(...).folders`): the first run of a commit
 * need not search the whole tree again.
 */
export function rememberUnitFolders(snapshotDir: string, folders: readonly string[]): void {
  if (!unitFolderCache.has(snapshotDir)) remember(snapshotDir, Promise.resolve(new Set(folders)));
}

function remember(snapshotDir: string, folders: Promise<Set<string>>): void {
  unitFolderCache.set(snapshotDir, folders);
  if (unitFolderCache.size > UNIT_FOLDER_CACHE_SIZE) unitFolderCache.delete(unitFolderCache.keys().next().value!);
}

async function isUnitFolder(path: string): Promise<boolean> {
  for (const manifest of new Set(manifestFiles().map((m) => m.fileName))) {
    try {
      await access(join(path, manifest));
      return true;
    } catch {
      // not this one
    }
  }
  return false;
}
