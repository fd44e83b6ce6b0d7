import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This repository's root: where bin/, engine/, the examples and the test fixtures are. */
export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Write `files` (paths relative to `root`, folders made as needed); returns `root`. */
export function writeTree(root: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const made: string[] = [];

/** A fresh temporary folder holding `files`; `removeTempTrees()` removes every one made. */
export function tempTree(files: Record<string, string> = {}, prefix = 'plumbline-tree-'): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  made.push(root);
  return writeTree(root, files);
}

export function removeTempTrees(): void {
  for (const root of made.splice(0)) rmSync(root, { recursive: true, force: true });
}

/**
 * The files a daemon keeps under its state dir, without the folders that are
 * Terraform's and Git's own (provider caches, the mirror, snapshots of the repository).
 */
export function* storedFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = statSync(full, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) {
      if (name === '.terraform' || name === 'mirror.git' || name === 'snapshots' || name === 'plugin-cache') continue;
      yield* storedFiles(full);
    } else yield full;
  }
}
