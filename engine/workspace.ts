import { cp, mkdir, readdir, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';

/**
 * Build a run's workspace: a view of the repository at one commit in which only
 * the unit's own folder is a private, writable copy (Terraform writes
 * `.terraform/` and lock files there) and everything else links back to the
 * shared read-only snapshot. Relative references such as
 * `source = "../../modules/vpc"` resolve exactly as in the repository, while a
 * run costs a copy of one folder, not of the whole tree.
 */
export async function createWorkspace(options: {
  snapshotDir: string;
  unitPath: string;
  treeDir: string;
  /** Names never copied (a developer's local `.terraform`, state files...). */
  exclude?: readonly string[];
}): Promise<string> {
  const segments = options.unitPath.split('/').filter(Boolean);
  let snapshotLevel = options.snapshotDir;
  let treeLevel = options.treeDir;
  for (const segment of segments) {
    await mkdir(treeLevel, { recursive: true, mode: 0o700 });
    for (const entry of await readdir(snapshotLevel)) {
      if (entry === segment) continue;
      await symlink(join(snapshotLevel, entry), join(treeLevel, entry));
    }
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
