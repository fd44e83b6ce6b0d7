import type { YamlPath } from '../../engine/provider-kit.ts';
import { folderOf, isTemplated, loadAnsibleYaml, repoJoin, type AnsibleYaml, type ReadCollector } from './read-set.ts';

/**
 * Follows a playbook the way Ansible loads it, statically: imported
 * playbooks, vars files, roles (and their dependencies), task and vars files
 * included from tasks, template and copy sources. Each file is found where
 * Ansible would look for it; the places Ansible would look first are read
 * too (a file added there later would be used instead).
 */

/** Where a file being read sits. */
interface Place {
  /** The file (repository-relative). */
  file: string;
  /** The folder of the playbook that brought it in: Ansible's base folder. */
  base: string;
  /** The role folder, when the file belongs to a role. */
  role?: string;
}

/** Folders Ansible loads from next to a playbook, whether they exist yet or not. */
const NEXT_TO_PLAYBOOK = ['group_vars', 'host_vars', 'templates', 'files'];
/** Plugin folders Ansible loads from next to a playbook, counted when present. */
const PLUGINS_NEXT_TO_PLAYBOOK = ['library', 'module_utils', 'filter_plugins', 'lookup_plugins', 'action_plugins', 'test_plugins', 'collections'];
const TASK_SECTIONS = ['pre_tasks', 'tasks', 'post_tasks', 'handlers'];
const BLOCK_SECTIONS = ['block', 'rescue', 'always'];
const SOURCE_FOLDER: Record<string, string> = { template: 'templates', copy: 'files', unarchive: 'files' };

export class PlaybookReader {
  private readonly seenFiles = new Set<string>();
  private readonly seenRoles = new Set<string>();

  constructor(
    private readonly reads: ReadCollector,
    /** Repository-relative role folders from the ansible.cfg in force. */
    private readonly rolesPath: readonly string[],
  ) {}

  playbook(path: string, why: string): void {
    this.reads.add(path, why);
    const doc = this.load(path);
    if (!doc) return;
    const base = folderOf(path);
    for (const sub of NEXT_TO_PLAYBOOK) this.reads.add(joinPath(base, sub), `${sub} next to the playbook ${path}`);
    for (const sub of PLUGINS_NEXT_TO_PLAYBOOK) {
      const folder = joinPath(base, sub);
      if (this.reads.exists(folder)) this.reads.add(folder, `${sub} next to the playbook ${path}`);
    }
    if (!Array.isArray(doc.value)) return;
    const place: Place = { file: path, base };
    doc.value.forEach((play, i) => {
      if (isRecord(play)) this.play(play, [i], doc, place);
    });
  }

  private play(play: Record<string, unknown>, at: YamlPath, doc: AnsibleYaml, place: Place): void {
    for (const key of ['import_playbook', 'ansible.builtin.import_playbook']) {
      const target = play[key];
      if (typeof target !== 'string') continue;
      const where = doc.where([...at, key]);
      const path = this.literal(target, place.base, `import_playbook ${JSON.stringify(target)} (${where})`);
      if (path !== undefined) this.playbook(path, `import_playbook in ${where}`);
    }
    const varsFiles = play.vars_files;
    if (Array.isArray(varsFiles)) {
      varsFiles.forEach((entry, i) => {
        // An entry that is itself a list: the first of those files that exists.
        for (const name of Array.isArray(entry) ? entry : [entry]) {
          if (typeof name !== 'string') continue;
          const where = doc.where([...at, 'vars_files', i]);
          const path = this.literal(name, place.base, `vars_files ${JSON.stringify(name)} (${where})`);
          if (path !== undefined) this.reads.add(path, `vars_files in ${where}`);
        }
      });
    }
    const roles = play.roles;
    if (Array.isArray(roles)) {
      roles.forEach((entry, i) => {
        const name = roleName(entry);
        if (name !== undefined) this.role(name, doc.where([...at, 'roles', i]), `role ${JSON.stringify(name)} in`, place);
      });
    }
    for (const section of TASK_SECTIONS) this.tasks(play[section], [...at, section], doc, place);
  }

  private tasks(list: unknown, at: YamlPath, doc: AnsibleYaml, place: Place): void {
    if (!Array.isArray(list)) return;
    list.forEach((task, i) => {
      if (!isRecord(task)) return;
      for (const section of BLOCK_SECTIONS) this.tasks(task[section], [...at, i, section], doc, place);
      for (const [key, args] of Object.entries(task)) {
        const action = key.replace(/^ansible\.(builtin|legacy)\./, '');
        const where = doc.where([...at, i, key]);
        if (action === 'import_tasks' || action === 'include_tasks' || action === 'include') {
          const name = argument(args, 'file');
          if (name !== undefined) this.taskFile(name, action, where, place);
        } else if (action === 'include_vars') {
          const name = argument(args, 'file') ?? argument(args, 'dir');
          if (name !== undefined) this.found(this.searchPaths(name, 'vars', place), `include_vars ${JSON.stringify(name)}`, where, place);
        } else if (action === 'import_role' || action === 'include_role') {
          const name = isRecord(args) && typeof args.name === 'string' ? args.name : undefined;
          if (name !== undefined) this.role(name, where, `${action} ${JSON.stringify(name)} in`, place);
        } else if (SOURCE_FOLDER[action] !== undefined) {
          const src = isRecord(args) && typeof args.src === 'string' ? args.src : undefined;
          if (src !== undefined) this.found(this.searchPaths(src, SOURCE_FOLDER[action]!, place), `${action} src ${JSON.stringify(src)}`, where, place);
        }
      }
    });
  }

  private taskFile(name: string, action: string, where: string, place: Place): void {
    const path = this.found(this.searchPaths(name, 'tasks', place), `${action} ${JSON.stringify(name)}`, where, place);
    if (path === undefined || this.seenFiles.has(path)) return;
    const doc = this.load(path);
    if (doc) this.tasks(doc.value, [], doc, { ...place, file: path });
  }

  /**
   * Resolve a role as Ansible does: next to the role that asks for it, then
   * `roles/` next to the playbook, the ansible.cfg's roles_path, the
   * playbook's own folder; a name with two dots is a collection's role.
   */
  private role(name: string, where: string, what: string, place: Place): void {
    if (isTemplated(name)) {
      this.reads.note(`${what} ${where} is built from a Jinja expression: not followed (add a watch: glob for it)`);
      return;
    }
    if (!name.includes('/') && (name.match(/\./g)?.length ?? 0) >= 2) {
      this.reads.note(`${what} ${where} comes from a collection, not from the repository: not followed`);
      return;
    }
    const folders = [...(place.role ? [folderOf(place.role)] : []), joinPath(place.base, 'roles'), ...this.rolesPath, place.base];
    const candidates = folders.map((folder) => repoJoin(folder, name)).filter((p): p is string => p !== null);
    const found = this.reads.firstOf(candidates, `${what} ${where}`, (p) => this.reads.isFolder(p), place.role);
    if (found === undefined) {
      this.reads.note(`${what} ${where} is not in the repository (looked in ${candidates.join(', ') || 'no folder inside it'}): Ansible may find it on the control host`);
      return;
    }
    if (this.seenRoles.has(found)) return;
    this.seenRoles.add(found);
    const inRole: Place = { file: found, base: place.base, role: found };
    const meta = ['meta/main.yml', 'meta/main.yaml', 'meta/main'].map((f) => `${found}/${f}`).find((f) => this.reads.exists(f));
    const metaDoc = meta ? this.load(meta) : undefined;
    if (meta && metaDoc && isRecord(metaDoc.value) && Array.isArray(metaDoc.value.dependencies)) {
      metaDoc.value.dependencies.forEach((dep, i) => {
        const depName = roleName(dep);
        if (depName !== undefined) this.role(depName, metaDoc.where(['dependencies', i]), `dependency ${JSON.stringify(depName)} of role ${found} in`, { ...inRole, file: meta });
      });
    }
    for (const file of this.reads.yamlFilesUnder(`${found}/tasks`).concat(this.reads.yamlFilesUnder(`${found}/handlers`))) {
      const doc = this.load(file);
      if (doc) this.tasks(doc.value, [], doc, { ...inRole, file });
    }
  }

  /**
   * Where Ansible looks for a file a task names, in its order: the places
   * inside the repository, and whether some lead outside it.
   */
  private searchPaths(name: string, kind: string, place: Place): SearchPaths | undefined {
    if (isTemplated(name)) return undefined;
    const here = folderOf(place.file);
    // Task files: beside the including file, then the role's tasks/ (or the playbook's folder).
    const folders =
      kind === 'tasks'
        ? place.role
          ? [here, joinPath(place.role, kind), place.role, place.base]
          : [here, place.base]
        : place.role
          ? [joinPath(place.role, kind), place.role, here, joinPath(place.base, kind), place.base]
          : [joinPath(here, kind), here, joinPath(place.base, kind), place.base];
    const paths = folders.map((folder) => repoJoin(folder, name));
    return { inside: paths.filter((p): p is string => p !== null), outside: paths.includes(null) };
  }

  /**
   * Record where a named file is found (see `firstOf`), or note why it
   * cannot be: the name is a template, or leads outside the repository.
   */
  private found(paths: SearchPaths | undefined, what: string, where: string, place: Place): string | undefined {
    if (paths === undefined) {
      this.reads.note(`${what} (${where}) is built from a Jinja expression: not followed (add a watch: glob for it)`);
      return undefined;
    }
    const found = this.reads.firstOf(paths.inside, `${what} in ${where}`, (p) => this.reads.exists(p), place.role);
    if (found === undefined && paths.outside) this.reads.note(`${what} (${where}) is not in the repository and may be read from outside it: not followed`);
    return found;
  }

  /** A literal path relative to `base`, or undefined with a note. */
  private literal(value: string, base: string, what: string): string | undefined {
    if (isTemplated(value)) {
      this.reads.note(`${what} is built from a Jinja expression: not followed (add a watch: glob for it)`);
      return undefined;
    }
    const path = repoJoin(base, value);
    if (path === null) {
      this.reads.note(`${what} is outside the repository: not followed`);
      return undefined;
    }
    return path;
  }

  private load(path: string): AnsibleYaml | undefined {
    this.seenFiles.add(path);
    const text = this.reads.read(path);
    if (text === undefined) return undefined;
    const doc = loadAnsibleYaml(text, path);
    if (!doc) this.reads.note(`${path} is not valid YAML: what it includes is not followed (plumbline validate says why)`);
    return doc;
  }
}

interface SearchPaths {
  inside: string[];
  /** Some of the places lead outside the repository. */
  outside: boolean;
}

function joinPath(folder: string, name: string): string {
  return folder === '' ? name : `${folder}/${name}`;
}

/** `webserver`, `{role: webserver}` or `{name: webserver}` (roles: and meta dependencies). */
function roleName(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (!isRecord(entry)) return undefined;
  const name = entry.role ?? entry.name;
  return typeof name === 'string' ? name : undefined;
}

/** A module's file argument: `include_tasks: x.yml`, `{file: x.yml}`, or the free form `file=x.yml`. */
function argument(args: unknown, key: string): string | undefined {
  if (typeof args === 'string') {
    const named = new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(args);
    if (named) return named[1];
    return args.includes('=') ? undefined : args.trim();
  }
  if (isRecord(args)) {
    const value = args[key] ?? args._raw_params;
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
