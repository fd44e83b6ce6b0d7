import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { configFileNames, field, objects, parseJsonConfig } from './config-files.ts';
import { findFileCalls, findModuleCalls, findTemplateFileCalls, type FileCall, type ModuleBlock } from './hcl-scan.ts';
import { lineIndex } from './hcl-tokens.ts';

/**
 * A stack's configuration as the repository holds it: the stack folder and
 * every local module it calls, recursively, read without terraform. What it
 * reads (reads.ts) and what `validate` refuses (validate.ts) both walk it.
 */

/** One configuration file of the tree, scanned. */
export interface ScannedFile {
  /** Repository-relative folder of the module the file belongs to. */
  dir: string;
  /** Repository-relative path of the file. */
  file: string;
  modules: ModuleBlock[];
  files: FileCall[];
}

/** What a module block's `source` names. */
export type ModuleSource =
  /** A folder of the repository (`../../modules/vpc`), normalized. */
  | { kind: 'local'; folder: string }
  /** An absolute path: not a repository path. */
  | { kind: 'absolute' }
  /** A relative path that climbs out of the repository (`../../../shared`). */
  | { kind: 'outside' }
  /** Not a plain string (built from a variable): cannot be followed statically. */
  | { kind: 'computed' }
  /** A registry or remote address: not a repository path. */
  | { kind: 'remote' };

/** Each configuration file of the stack folder, then of each local module it calls (each folder once). */
export async function* configTree(repoDir: string, unitPath: string): AsyncGenerator<ScannedFile> {
  const visited = new Set([unitPath]);
  const queue = [unitPath];
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    for (const name of await configFileNames(join(repoDir, dir))) {
      const file = `${dir}/${name}`;
      const text = await readText(join(repoDir, file));
      if (text === undefined) continue;
      const scanned = name.endsWith('.tf.json') ? scanJson(text) : { modules: findModuleCalls(text), files: findFileCalls(text) };
      yield { dir, file, ...scanned };
      for (const call of scanned.modules) {
        const source = moduleSource(dir, call);
        if (source.kind === 'local' && !visited.has(source.folder)) {
          visited.add(source.folder);
          queue.push(source.folder);
        }
      }
    }
  }
}

/** What the `source` of a module block in the folder `dir` names. */
export function moduleSource(dir: string, call: ModuleBlock): ModuleSource {
  if (call.source === undefined) return { kind: 'computed' };
  const source = call.source.replaceAll('\\', '/');
  if (isAbsolutePath(source)) return { kind: 'absolute' };
  // Only ./ and ../ are local paths to terraform; anything else is a registry or remote address.
  if (!/^\.\.?(\/|$)/.test(source)) return { kind: 'remote' };
  const folder = repositoryPath(posix.join(dir, source));
  return folder === undefined ? { kind: 'outside' } : { kind: 'local', folder };
}

/** The normalized repository path, or undefined when it climbs out of the repository. */
export function repositoryPath(path: string): string | undefined {
  const normalized = posix.normalize(path).replace(/\/+$/, '');
  return normalized === '..' || normalized.startsWith('../') ? undefined : normalized;
}

export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path);
}

export async function readText(path: string): Promise<string | undefined> {
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
export function keyPosition(text: string, keys: readonly string[]): number {
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
