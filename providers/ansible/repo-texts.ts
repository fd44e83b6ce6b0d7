import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The text files an inventory's run looks into before Ansible starts (the
 * vault scan, the strategy's check of connection variables): read once per
 * run, shared by both.
 */

export interface TextFile {
  /** Absolute path, for messages (made repository-relative where shown). */
  file: string;
  text: string;
}

const MAX_FILE_BYTES = 2 * 1024 * 1024;
const SKIP_DIRS = new Set(['.git', 'node_modules', '.terraform']);

/** Every text file in `paths` (files, and folders searched below); binary and very large files are skipped. */
export async function readTexts(paths: string | readonly string[]): Promise<TextFile[]> {
  const files = new Set((await Promise.all((typeof paths === 'string' ? [paths] : paths).map(listFiles))).flat());
  const texts: TextFile[] = [];
  for (const file of files) {
    let text: string;
    try {
      if ((await stat(file)).size > MAX_FILE_BYTES) continue;
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    if (!text.includes('\0')) texts.push({ file, text });
  }
  return texts;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  if ((await stat(dir).catch(() => null))?.isFile()) return [dir];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...(await listFiles(path)));
    } else if (entry.isFile()) out.push(path);
  }
  return out;
}
