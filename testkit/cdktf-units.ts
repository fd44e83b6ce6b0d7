import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { UnitDefinition } from '../engine/provider-kit.ts';
import type { CdktfSpec } from '../providers/cdktf/manifest.ts';
import { testUnit } from './providers.ts';

/** Plumbline's installation: this repository. */
export { installRoot } from '../engine/providers.ts';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `plumbline-cdktf-${prefix}-`));
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/**
 * A CDKTF unit of `stacks/<name>`: its entry is `entry` inside the stack
 * folder (main.ts by default), or `entryPath` anywhere in the repository.
 */
export function cdktfUnit(
  name: string,
  spec: { entry?: string; entryPath?: string; stackName?: string | null; vars?: Record<string, unknown> } = {},
): UnitDefinition {
  const path = `stacks/${name}`;
  const cdktf: CdktfSpec = { entry: spec.entryPath ?? `${path}/${spec.entry ?? 'main.ts'}`, stackName: spec.stackName ?? null };
  return testUnit({ name, type: 'stack', kind: 'cdktf', path, approval: 'manual', vars: spec.vars ?? {}, spec: cdktf });
}

/**
 * A repository snapshot made of `files` (repository-relative paths), and a run
 * workspace over it laid out like the engine's: the unit folder is a writable
 * copy, everything around it links back into the snapshot.
 */
export async function workspace(root: string, unitPath: string, files: Record<string, string>, copyFrom?: string): Promise<string> {
  const snapshot = join(root, 'snapshot');
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(snapshot, path)), { recursive: true });
    await writeFile(join(snapshot, path), text);
  }
  if (copyFrom) await cp(copyFrom, join(snapshot, unitPath), { recursive: true });
  await mkdir(join(snapshot, unitPath), { recursive: true });

  const tree = join(root, 'tree');
  let from = snapshot;
  let to = tree;
  for (const segment of unitPath.split('/')) {
    await mkdir(to, { recursive: true });
    for (const entry of await readdir(from)) {
      if (entry !== segment) await symlink(join(from, entry), join(to, entry));
    }
    from = join(from, segment);
    to = join(to, segment);
  }
  await cp(from, to, { recursive: true, verbatimSymlinks: true });
  return to;
}
