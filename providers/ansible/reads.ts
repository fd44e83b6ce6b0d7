import type { InventorySpec } from './manifest.ts';
import type { ReadSet, ReadsRequest } from '../../engine/provider-kit.ts';
import { configCandidates, parseIni, pathList } from './config-file.ts';
import { PlaybookReader } from './read-playbook.ts';
import { folderOf, ReadCollector, repoJoin } from './read-set.ts';

/**
 * Every repository path an inventory reads, with why: the ansible.cfg in
 * force (and the places one would be taken from if added), the inventory and
 * the group_vars/host_vars beside it, the known_hosts, the playbook and all
 * it brings in (see PlaybookReader). Static: the repository at one revision,
 * no process.
 */
export async function inventoryReads(request: ReadsRequest): Promise<ReadSet> {
  const { unit } = request;
  const spec = unit.spec as InventorySpec;
  const reads = new ReadCollector(request.repoDir);

  const config = reads.firstOf(configCandidates(unit, spec), 'the ansible.cfg of this inventory', (p) => reads.exists(p));
  const rolesPath = config ? configPaths(reads, config) : [];

  if (spec.inventory) {
    reads.add(spec.inventory, 'the inventory');
    // Ansible reads group_vars/host_vars beside an inventory file (a folder holds its own).
    if (!reads.isFolder(spec.inventory)) {
      const dir = folderOf(spec.inventory);
      for (const sub of ['group_vars', 'host_vars']) reads.add(dir ? `${dir}/${sub}` : sub, `${sub} next to the inventory ${spec.inventory}`);
    }
  }
  const knownHosts = spec.ssh.knownHostsFile;
  if (knownHosts.startsWith('/')) reads.note(`the known_hosts ${knownHosts} is on the control host, outside the repository`);
  else reads.add(knownHosts, 'the known_hosts every host key is checked against');

  new PlaybookReader(reads, rolesPath).playbook(spec.playbook, `the playbook of inventory ${unit.name}`);
  return reads.result();
}

/** Settings of an ansible.cfg that name folders Ansible loads from. */
const FOLDER_SETTINGS = ['roles_path', 'library', 'module_utils', 'action_plugins', 'filter_plugins', 'lookup_plugins', 'test_plugins', 'collections_path', 'collections_paths'];

/**
 * The folders an ansible.cfg names, resolved as Ansible resolves them
 * (relative to the file's folder). Plugin and collection folders are read
 * as a whole; roles_path is returned, for resolving role names (only the
 * roles used count).
 */
function configPaths(reads: ReadCollector, config: string): string[] {
  const text = reads.read(config);
  if (text === undefined) return [];
  const defaults = parseIni(text).get('defaults');
  const roles: string[] = [];
  for (const setting of FOLDER_SETTINGS) {
    for (const value of pathList(defaults?.get(setting))) {
      const folder = repoJoin(folderOf(config), value);
      if (folder === null) {
        reads.note(`${setting} ${JSON.stringify(value)} in ${config} is outside the repository: not followed`);
        continue;
      }
      if (setting === 'roles_path') roles.push(folder);
      else reads.add(folder, `${setting} in ${config}`);
    }
  }
  return roles;
}
