import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { UnitDefinition } from '../../engine/provider-kit.ts';
import type { InventorySpec } from './manifest.ts';

/**
 * Which ansible.cfg a run uses. Ansible would read `$ANSIBLE_CONFIG`, then
 * `./ansible.cfg`, then the daemon user's `~/.ansible.cfg` or
 * `/etc/ansible/ansible.cfg`: the last two are not in Git. Plumbline honours
 * the file a user of the repository expects (the inventory folder's, else the
 * playbook folder's, else the repository root's) and always names it in
 * `ANSIBLE_CONFIG`, or an empty file when the repository has none. Settings
 * Plumbline enforces are environment variables, which beat any config file.
 */

export const CONFIG_FILE = 'ansible.cfg';

/** Repository-relative ansible.cfg paths in the order they are honoured (the first that exists wins). */
export function configCandidates(unit: Pick<UnitDefinition, 'path'>, spec: Pick<InventorySpec, 'playbook'>): string[] {
  const folders = [unit.path, posix.dirname(spec.playbook), ''];
  return [...new Set(folders.map((folder) => (folder === '' || folder === '.' ? CONFIG_FILE : `${folder}/${CONFIG_FILE}`)))];
}

/** The ansible.cfg in force in the repository at `root` (repository-relative), or null. */
export function configInForce(root: string, unit: Pick<UnitDefinition, 'path'>, spec: Pick<InventorySpec, 'playbook'>): string | null {
  return configCandidates(unit, spec).find((path) => existsSync(join(root, path))) ?? null;
}

export interface ConfigFile {
  /** Absolute path for `ANSIBLE_CONFIG`. */
  file: string;
  /** Repository-relative, or null when the repository has none (an empty file stands in). */
  label: string | null;
}

/**
 * The config file of a run in the tree at `root`. The path stays under
 * `root` (not resolved through links), so Ansible resolves its relative
 * paths (`roles_path = roles`) against the folder the file is in, as in the
 * repository.
 */
export async function runConfigFile(root: string, unit: UnitDefinition, spec: InventorySpec, scratchDir: string): Promise<ConfigFile> {
  const label = configInForce(root, unit, spec);
  if (label) return { file: join(root, label), label };
  const file = join(scratchDir, 'no-ansible.cfg');
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  await writeFile(file, '# The repository has no ansible.cfg: Ansible\'s defaults, never the control host\'s.\n', { mode: 0o600 });
  return { file, label: null };
}

/**
 * An INI file read as Ansible's configparser reads it: `[section]`, `key =
 * value` or `key: value`, keys lower-cased, `#`/`;` comment lines, `;`
 * inline comments, indented continuation lines.
 */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(raw)) continue;
    const header = /^\[([^\]]+)\]/.exec(raw);
    if (header) {
      section = sections.get(header[1]!.trim()) ?? new Map();
      sections.set(header[1]!.trim(), section);
      lastKey = undefined;
      continue;
    }
    if (!section) continue;
    const value = (v: string) => v.replace(/\s;.*$/, '').trim();
    if (/^\s/.test(raw) && lastKey) {
      section.set(lastKey, `${section.get(lastKey)}\n${value(raw)}`.trim());
      continue;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!pair) continue;
    lastKey = pair[1]!.trim().toLowerCase();
    section.set(lastKey, value(pair[2]!));
  }
  return sections;
}

/** A path list setting (`roles_path = roles:../shared/roles`), split as Ansible splits it. */
export function pathList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(/[:\n]/)
    .map((p) => p.trim())
    .filter(Boolean);
}
