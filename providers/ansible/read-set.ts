import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { type Locate, parseYamlDocument, type ReadEntry, type ReadSet, type YamlPath } from '../../engine/provider-kit.ts';

/**
 * What an inventory reads, collected while following its files: repository
 * paths with why, and notes on what could not be followed. Paths are
 * repository-relative (forward slashes); anything that leads outside the
 * repository becomes a note, never an entry.
 */
export class ReadCollector {
  private readonly entries = new Map<string, string>();
  private readonly notes: string[] = [];

  constructor(readonly repoDir: string) {}

  /** Record `path` (repository-relative, normalized) unless already known. */
  add(path: string, why: string): void {
    if (!this.entries.has(path)) this.entries.set(path, why);
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  has(path: string): boolean {
    return this.entries.has(path);
  }

  exists(path: string): boolean {
    return existsSync(join(this.repoDir, path));
  }

  isFolder(path: string): boolean {
    try {
      return statSync(join(this.repoDir, path)).isDirectory();
    } catch {
      return false;
    }
  }

  /**
   * The first of `candidates` (in the order Ansible looks) that `found`
   * accepts. It is recorded with those before it, which Ansible would use
   * instead if they appeared; all are recorded when none is found. Paths
   * inside `within` (a role folder, counted as a whole) are not recorded.
   */
  firstOf(candidates: readonly string[], why: string, found: (path: string) => boolean, within?: string): string | undefined {
    const unique = [...new Set(candidates)];
    const index = unique.findIndex(found);
    const considered = index < 0 ? unique : unique.slice(0, index + 1);
    const absent = index < 0 ? `${why}: not there; read from here if added` : `${why}: not there; read instead of ${unique[index]} if added`;
    for (const [i, path] of considered.entries()) {
      if (within !== undefined && isUnder(path, within)) continue;
      this.add(path, i === index ? why : absent);
    }
    return index < 0 ? undefined : unique[index];
  }

  /** YAML files below a repository folder, sorted. */
  yamlFilesUnder(folder: string): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      let names: string[];
      try {
        names = readdirSync(join(this.repoDir, dir)).sort();
      } catch {
        return;
      }
      for (const name of names) {
        const path = `${dir}/${name}`;
        if (this.isFolder(path)) walk(path);
        else if (/\.ya?ml$/.test(name)) out.push(path);
      }
    };
    walk(folder);
    return out;
  }

  /** The text of a repository file, or undefined when it cannot be read. */
  read(path: string): string | undefined {
    try {
      return readFileSync(join(this.repoDir, path), 'utf8');
    } catch {
      return undefined;
    }
  }

  result(): ReadSet {
    const entries: ReadEntry[] = [...this.entries].map(([path, why]) => ({ path, why }));
    return { entries, ...(this.notes.length > 0 ? { notes: [...this.notes] } : {}) };
  }
}

/**
 * `value` joined to the repository folder `base`, normalized; null when it
 * is absolute, starts at a home folder or leads outside the repository.
 */
export function repoJoin(base: string, value: string): string | null {
  if (value.startsWith('/') || value.startsWith('~') || value.startsWith('$')) return null;
  const joined = posix.normalize(base === '' || base === '.' ? value : `${base}/${value}`).replace(/\/+$/, '');
  if (joined === '..' || joined.startsWith('../')) return null;
  return joined === '.' ? '' : joined;
}

/** Parent folder of a repository path ('' for the root). */
export function folderOf(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '' : dir;
}

/** Inside `folder` (or the folder itself). */
export function isUnder(path: string, folder: string): boolean {
  return folder === '' || path === folder || path.startsWith(`${folder}/`);
}

/** A string Ansible templates at run time: its value is not known statically. */
export function isTemplated(value: string): boolean {
  return value.includes('{{') || value.includes('{%');
}

export interface AnsibleYaml {
  value: unknown;
  /** `file:line` of a path in the document, for people. */
  where: (path: YamlPath) => string;
}

/**
 * An Ansible YAML file (playbook, tasks, role meta), or undefined when it is
 * not valid YAML. Ansible's own tags (`!vault`, `!unsafe`) are blanked to
 * spaces first, so positions stay right and the core schema accepts the rest.
 */
export function loadAnsibleYaml(text: string, file: string): AnsibleYaml | undefined {
  const untagged = text.replace(/(^|[\s:,[{-])(!vault|!unsafe)(?=[\s|>])/g, (_m, lead: string, tag: string) => `${lead}${' '.repeat(tag.length)}`);
  const parsed = parseYamlDocument(untagged, file);
  if (parsed.problems.length > 0) return undefined;
  const locate: Locate = parsed.locate;
  return { value: parsed.value, where: (path) => `${file}:${locate(path).line}` };
}
