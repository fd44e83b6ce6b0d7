import { access, chmod, lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Whether a path exists (any type); errors other than absence count as absent too. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Take group and other permissions off every file and folder below `dir`
 * (a state directory written by an older version, or by tools that ignored
 * the umask). Symlinks are left alone; a folder is fixed before it is read.
 * Returns how many modes were changed.
 */
export async function removeGroupAndOtherAccess(dir: string): Promise<number> {
  let changed = 0;
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => null);
    if (!info || info.isSymbolicLink()) return;
    if ((info.mode & 0o077) !== 0) {
      await chmod(path, info.mode & 0o700);
      changed += 1;
    }
    if (info.isDirectory()) {
      const entries = await readdir(path).catch(() => []);
      for (const entry of entries) await visit(join(path, entry));
    }
  };
  await visit(dir);
  return changed;
}

/**
 * A private file's text and permission bits (as `0600`), both of the one file
 * opened, not of whatever the path names a moment later. Throws what open()
 * throws (ENOENT, EACCES) for the caller to word.
 */
export async function readWithMode(file: string): Promise<{ text: string; mode: string; shared: boolean }> {
  const handle = await open(file, 'r');
  try {
    const bits = (await handle.stat()).mode & 0o777;
    return { text: await handle.readFile('utf8'), mode: `0${bits.toString(8).padStart(3, '0')}`, shared: (bits & 0o077) !== 0 };
  } finally {
    await handle.close();
  }
}
