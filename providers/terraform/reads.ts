import { posix } from 'node:path';
import type { ReadEntry, ReadSet, ReadsRequest } from '../../engine/provider-kit.ts';
import type { FileCall } from './hcl-scan.ts';
import { configTree, isAbsolutePath, moduleSource, repositoryPath } from './module-tree.ts';

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
  for await (const scanned of configTree(repoDir, unit.path)) {
    for (const call of scanned.modules) {
      const where = `module "${call.name}" in ${scanned.file}:${call.line}`;
      const source = moduleSource(scanned.dir, call);
      switch (source.kind) {
        case 'local':
          add(source.folder, where);
          break;
        case 'computed':
          notes.push(`${where}: its source is not a plain string, so Plumbline cannot tell which folder it reads; add a watch: glob for it`);
          break;
        case 'absolute':
          notes.push(`${where}: source "${call.source}" is an absolute path, not a repository path; Plumbline does not watch it (keep shared modules in the repository)`);
          break;
        case 'outside':
          notes.push(`${where}: source "${call.source}" is outside the repository; Plumbline does not watch it`);
          break;
        case 'remote':
          break;
      }
    }
    for (const call of scanned.files) {
      const where = `${call.fn}() in ${scanned.file}:${call.line}`;
      const target = fileTarget(call, scanned.dir, unit.path, where, notes);
      if (target !== undefined) add(target, where);
    }
  }
  request.log.debug({ unit: unit.name, reads: entries.size, notes: notes.length }, 'terraform reads');
  return { entries: [...entries.values()], ...(notes.length > 0 ? { notes } : {}) };
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
  const inside = repositoryPath(path);
  if (inside === undefined) notes.push(`${where}: ${what} is outside the repository; Plumbline does not watch it`);
  return inside;
}
