import { readdir } from 'node:fs/promises';

/** The configuration files terraform reads in a folder (`*.tf`, `*.tf.json`), skipping what it ignores. */
export async function configFileNames(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names.filter((f) => (f.endsWith('.tf') || f.endsWith('.tf.json')) && !isIgnoredFile(f)).sort();
}

/** Editor backups and hidden files, as terraform skips them. */
function isIgnoredFile(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || (name.startsWith('#') && name.endsWith('#'));
}

/*
 * Terraform's JSON configuration syntax (`*.tf.json`): every block level may be
 * an object or an array of objects (`"terraform": [{ "backend": [{ "s3": [{}] }] }]`).
 */

export function field(value: unknown, name: string): unknown {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}

export function objects(value: unknown): Record<string, unknown>[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v));
}

/** The parsed file, or undefined when it is not JSON (terraform reports that itself, with its position). */
export function parseJsonConfig(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
