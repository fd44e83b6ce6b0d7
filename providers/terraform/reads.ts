import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { ReadEntry, ReadSet, ReadsRequest } from '../../engine/provider.ts';
import { configFileNames, field, objects, parseJsonConfig } from './config-files.ts';
import { findFileCalls, findModuleCalls, findTemplateFileCalls, type FileCall, type ModuleBlock } from './hcl-scan.ts';
import { lineIndex } from './hcl-tokens.ts';

/**
 * What a Terraform stack reads beyond its own folder, from its configuration
 * alone (no terraform process, no network): every local module it calls,
 * recursively, and the files its `file()`-like calls name with
 * `"${path.module}/..."`. Registry and remote module sources are not
 * repository paths and are skipped; what cannot be followed (a source outside
 * the repository, a file path built from a variable) becomes a note.
 */
export async function terraformReads(request: ReadsRequest): Promise<ReadSet> {
  const { unit, repoDir } = request;
  const entries = new Map<string, ReadEntry>();
  const notes: string[] = [];
  const add = (path: string, why: string): void => {
    if (!entries.has(path)) entries.set(path, { path, why });
  };
  const visited = new Set([unit.path]);
  const queue = [unit.path];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    for (const name of await configFileNames(join(repoDir, dir))) {
      const file = `${dir}/${name}`;
      const text = await readText(join(repoDir, file));
      if (text === undefined) continue;
      const scanned = name.endsWith('.tf.json') ? scanJson(text) : { modules: findModuleCalls(text), files: findFileCalls(text) };

      for (const call of scanned.modules) {
        const where = `module "${call.name}" in ${file}:${call.line}`;
        const target = moduleFolder(dir, call, where, notes);
        if (target === undefined) continue;
        add(target, where);
        if (!visited.has(target)) {
          visited.add(target);
          queue.push(target);
        }
      }
      for (const call of scanned.files) {
        const where = `${call.fn}() in ${file}:${call.line}`;
        const target = fileTarget(call, dir, unit.path, where, notes);
        if (target !== undefined) add(target, where);
      }
    }
  }
  request.log.debug({ unit: unit.name, reads: entries.size, notes: notes.length }, 'terraform reads');
  return { entries: [...entries.values()], ...(notes.length > 0 ? { notes } : {}) };
}

/** The repository folder of a local module, or undefined (a registry or remote module, or a note). */
function moduleFolder(dir: string, call: ModuleBlock, where: string, notes: string[]): string | undefined {
  if (call.source === undefined) {
    notes.push(`${where}: its source is not a plain string, so Plumbline cannot tell which folder it reads; add a watch: glob for it`);
    return undefined;
  }
  const source = call.source.replaceAll('\\', '/');
  if (isAbsolutePath(source)) {
    notes.push(`${where}: source "${call.source}" is an absolute path, not a repository path; Plumbline does not watch it (keep shared modules in the repository)`);
    return undefined;
  }
  // Only ./ and ../ are local paths to terraform; anything else is a registry or remote address.
  if (!/^\.\.?(\/|$)/.test(source)) return undefined;
  return insideRepository(posix.join(dir, source), where, `source "${call.source}"`, notes);
}

function fileTarget(call: FileCall, moduleDir: string, rootDir: string, where: string, notes: string[]): string | undefined {
  const { argument } = call;
  switch (argument.kind) {
    case 'relative':
      return insideRepository(posix.join(argument.base === 'module' ? moduleDir : rootDir, argument.path), where, `"\${path.${argument.base}}/${argument.path}"`, notes);
    case 'literal':
      if (isAbsolutePath(argument.path)) {
        notes.push(`${where}: "${argument.path}" is an absolute path, not a repository path; Plumbline does not watch it`);
        return undefined;
      }
      // Terraform resolves a relative path from the folder it runs in: the stack's.
      return insideRepository(posix.join(rootDir, argument.path), where, `"${argument.path}"`, notes);
    case 'expression':
      notes.push(`${where}: reads ${argument.text || 'a computed path'}, which Plumbline cannot resolve without running terraform; add a watch: glob for the files it reads`);
      return undefined;
  }
}

function insideRepository(path: string, where: string, what: string, notes: string[]): string | undefined {
  const normalized = posix.normalize(path).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) {
    notes.push(`${where}: ${what} is outside the repository; Plumbline does not watch it`);
    return undefined;
  }
  return normalized;
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path);
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Module calls and file calls of a `.tf.json` file, with lines found in its text. */
function scanJson(text: string): { modules: ModuleBlock[]; files: FileCall[] } {
  const doc = parseJsonConfig(text);
  const lines = lineIndex(text);
  const modules: ModuleBlock[] = [];
  for (const block of objects(field(doc, 'module'))) {
    for (const [name, body] of Object.entries(block)) {
      if (name === '//') continue;
      for (const config of objects(body)) {
        const source = typeof config.source === 'string' && !config.source.includes('${') ? config.source : undefined;
        modules.push({ name, source, line: lines(keyPosition(text, ['module', name])) });
      }
    }
  }
  const files: FileCall[] = [];
  for (const template of templateStrings(doc)) {
    const at = text.indexOf(JSON.stringify(template));
    const line = at === -1 ? 1 : lines(at);
    for (const call of findTemplateFileCalls(template)) files.push({ ...call, line: line + call.line - 1 });
  }
  return { modules, files };
}

/** Where `"a": ... "b":` first appears, each key after the one before (0 when not found). */
function keyPosition(text: string, keys: readonly string[]): number {
  let at = 0;
  for (const key of keys) {
    const quoted = JSON.stringify(key);
    let found = text.indexOf(quoted, at);
    // A key is followed by a colon; the same text as a value is not.
    while (found !== -1 && !/^\s*:/.test(text.slice(found + quoted.length, found + quoted.length + 64))) found = text.indexOf(quoted, found + 1);
    if (found === -1) return at;
    at = found;
  }
  return at;
}

/** Every string value that holds a template (`${...}` or `%{...}`). */
function templateStrings(value: unknown): string[] {
  if (typeof value === 'string') return value.includes('${') || value.includes('%{') ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(templateStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(templateStrings);
  return [];
}
