import type { TextFile } from './repo-texts.ts';

/**
 * What mitogen (0.3.3, Debian 12's ansible-mitogen) cannot run, found in the
 * files an inventory's run reads: such a run uses Ansible's own strategy.
 *
 * Templated connection variables. Mitogen takes the connection variables
 * as written: a templated `ansible_host: "{{ addr }}"` reaches ssh as the
 * text `{{ addr }}` and the host cannot be reached ("hostname contains
 * invalid characters"); the same for the port, the user, the key file, the
 * password and ssh's arguments. Ansible's own strategy fills them in. An
 * inventory that templates one of them therefore runs with Ansible's
 * strategy: slower, never unreachable for this reason.
 *
 * The `raw` module. Mitogen reaches a host by starting its own Python
 * there: a host without Python (network gear spoken to with `raw`, a host
 * that `raw` is to bootstrap) is unreachable under it, while Ansible's `raw`
 * needs nothing but a shell.
 *
 * The checks are textual, over every file the run reads (the inventory, its
 * group_vars and host_vars, the playbook and what it includes): they may see
 * a use where Ansible would make none (a commented line, a variable named
 * `raw`), which costs speed only, never a run.
 */

export interface MitogenLimit {
  reason: 'templated-connection' | 'raw-module';
  /** As given (absolute); shown repository-relative. Absent for the manifest's `vars:`. */
  file?: string;
  /** 1-based. */
  line?: number;
  /** The connection variable, or the module's name as written. */
  name: string;
}

/** The first thing in these texts (or extra variables) that mitogen cannot run, or null. */
export function findMitogenLimit(texts: readonly TextFile[], vars: Record<string, unknown>): MitogenLimit | null {
  const templated = findTemplatedConnection(texts);
  if (templated) return { reason: 'templated-connection', file: templated.file, line: templated.line, name: templated.variable };
  const variable = templatedConnectionVar(vars);
  if (variable) return { reason: 'templated-connection', name: variable };
  return findRawTask(texts);
}

/** A task of the `raw` module: `raw:`, `ansible.builtin.raw:` or `ansible.legacy.raw:` as a key. */
const RAW_TASK = /^\s*(?:-\s+)?((?:ansible\.(?:builtin|legacy)\.)?raw)\s*:/;

export function findRawTask(texts: readonly TextFile[]): MitogenLimit | null {
  for (const { file, text } of texts) {
    if (!text.includes('raw')) continue;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const match = RAW_TASK.exec(lines[i]!);
      if (match) return { reason: 'raw-module', file, line: i + 1, name: match[1]! };
    }
  }
  return null;
}

interface TemplatedConnection {
  file: string;
  line: number;
  variable: string;
}

/** Variables of the ssh connection (and of become, which rides on it) that mitogen reads untemplated. */
const CONNECTION_VARIABLE = /(?<![\w.])(ansible_(?:ssh_)?(?:host|port|user|pass|password|private_key_file|common_args|extra_args|args|executable|timeout)|ansible_connection|ansible_become\w*)["']?\s*[:=]/g;
const TEMPLATE = /\{\{|\{%/;
/** An INI inventory line holds several `key=value` pairs: a value ends where the next key starts. */
const NEXT_INI_KEY = /\s[A-Za-z_]\w*=/;
/** A YAML value given on the lines below its key (`key: |`, `key: >-`, or nothing). */
const BLOCK_START = /^\s*(?:[|>][+-]?\d*)?\s*(?:#.*)?$/;

/** The first connection variable set to a template in these texts, or null. */
export function findTemplatedConnection(texts: readonly TextFile[]): TemplatedConnection | null {
  for (const { file, text } of texts) {
    if (!TEMPLATE.test(text)) continue;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const variable = templatedOnLine(lines, i);
      if (variable) return { file, line: i + 1, variable };
    }
  }
  return null;
}

/** Extra variables (the manifest's `vars:`): Ansible templates their values too. */
export function templatedConnectionVar(vars: Record<string, unknown>): string | null {
  for (const [name, value] of Object.entries(vars)) {
    CONNECTION_VARIABLE.lastIndex = 0;
    const match = CONNECTION_VARIABLE.exec(`${name}:`);
    if (match?.[1] === name && typeof value === 'string' && TEMPLATE.test(value)) return name;
  }
  return null;
}

function templatedOnLine(lines: readonly string[], index: number): string | null {
  const line = lines[index]!;
  CONNECTION_VARIABLE.lastIndex = 0;
  for (let match = CONNECTION_VARIABLE.exec(line); match; match = CONNECTION_VARIABLE.exec(line)) {
    const rest = line.slice(match.index + match[0].length);
    const next = NEXT_INI_KEY.exec(rest);
    const value = next ? rest.slice(0, next.index) : rest;
    if (TEMPLATE.test(value)) return match[1]!;
    if (BLOCK_START.test(value) && blockBelow(lines, index).some((l) => TEMPLATE.test(l))) return match[1]!;
  }
  return null;
}

/** The lines indented deeper than line `index`: the value of a key that ends that line. */
function blockBelow(lines: readonly string[], index: number): string[] {
  const indent = indentOf(lines[index]!);
  const block: string[] = [];
  for (let i = index + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (indentOf(line) <= indent) break;
    block.push(line);
  }
  return block;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}
