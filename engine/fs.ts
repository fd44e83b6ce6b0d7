import { access, chmod, lstat, readdir } from 'node:fs/promises';
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
