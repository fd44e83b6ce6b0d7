import { access } from 'node:fs/promises';

/** Whether a path exists (any type); errors other than absence count as absent too. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
