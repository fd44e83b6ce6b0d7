import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { mapLimit } from '../concurrency.ts';
import type { Problem } from '../errors.ts';
import { covers } from './reads.ts';

/**
 * Code no unit reads is code Git says should exist that nothing reconciles:
 * a Terraform configuration without a stack (a nested layout the user thought
 * was found, a module nobody calls any more), a playbook no inventory runs.
 * `plumbline validate` warns about each, so a silent "no units" never passes
 * for success.
 */

const NEVER_SEARCHED = new Set(['node_modules', '.terraform', 'cdktf.out', '.git']);
const MAX_DEPTH = 12;
/** Larger YAML files are data, not playbooks worth parsing here. */
const MAX_PLAYBOOK_BYTES = 256 * 1024;
const PLAYBOOK_HINT = /^\s*-\s+(hosts|import_playbook|ansible\.builtin\.import_playbook)\s*:/m;

export async function uncoveredCode(root: string, readPaths: readonly string[]): Promise<Problem[]> {
  const isCovered = (path: string) => readPaths.some((read) => covers(read, path));
  const problems: Problem[] = [];
  let level = [''];
  for (let depth = 0; level.length > 0 && depth <= MAX_DEPTH; depth++) {
    const listings = await mapLimit(level, 32, (dir) => readdir(join(root, dir), { withFileTypes: true }).catch(() => []));
    const next: string[] = [];
    for (const [index, dir] of level.entries()) {
      const entries = listings[index]!;
      const files = entries.filter((e) => e.isFile()).map((e) => e.name).sort();
      const terraform = files.find((f) => f.endsWith('.tf') || f.endsWith('.tf.json'));
      if (terraform && !isCovered(dir)) {
        problems.push(warning(join(dir, terraform), 'no unit plans this Terraform configuration: no stack folder holds it and no stack calls it as a local module (add a stack.yaml beside it, or call it from a stack)'));
      }
      for (const file of files.filter((f) => /\.ya?ml$/.test(f))) {
        const path = dir ? `${dir}/${file}` : file;
        if (!isCovered(path) && (await isPlaybook(join(root, path)))) {
          problems.push(warning(path, 'no inventory runs this playbook: no inventory names it as its playbook or imports it (name it in an inventory.yaml, or remove it)'));
        }
      }
      for (const entry of entries) {
        if (entry.isDirectory() && !entry.name.startsWith('.') && !NEVER_SEARCHED.has(entry.name)) next.push(dir ? `${dir}/${entry.name}` : entry.name);
      }
    }
    level = next;
  }
  return problems;
}

/** A YAML list of plays: mappings with `hosts:` or `import_playbook:`. */
async function isPlaybook(file: string): Promise<boolean> {
  const info = await stat(file).catch(() => null);
  if (!info || info.size > MAX_PLAYBOOK_BYTES) return false;
  const text = await readFile(file, 'utf8').catch(() => '');
  if (!PLAYBOOK_HINT.test(text)) return false;
  try {
    const doc = yaml.load(text, { json: true });
    return Array.isArray(doc) && doc.some((play) => typeof play === 'object' && play !== null && ('hosts' in play || 'import_playbook' in play || 'ansible.builtin.import_playbook' in play));
  } catch {
    return false;
  }
}

function warning(file: string, message: string): Problem {
  return { file: file.replaceAll('\\', '/'), line: 1, column: 1, message, severity: 'warning' };
}
