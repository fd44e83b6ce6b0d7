import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ReadSet, UnitDefinition } from '../../engine/provider-kit.ts';
import { silentLogger } from '../../testkit/providers.ts';
import type { InventorySpec } from './manifest.ts';
import { inventoryReads } from './reads.ts';
import { inventorySpec, inventoryUnit } from '../../testkit/ansible-units.ts';

// Two repositories laid out the way Ansible users lay theirs out (our own
// content): Ansible's documented best-practice layout (site.yml, tier
// playbooks, roles/, group_vars/ at the root, one inventory folder per
// environment), and a galaxy-style one (playbooks/, roles installed under
// vendor/roles, a root ansible.cfg with roles_path).
const FIXTURES = fileURLToPath(new URL('./fixtures/reads/', import.meta.url));

function unit(path: string, spec: Partial<InventorySpec> & { playbook: string }): UnitDefinition {
  return inventoryUnit(path, inventorySpec(path, { inventory: null, ...spec }));
}

async function readsOf(repoDir: string, definition: UnitDefinition): Promise<ReadSet> {
  return inventoryReads({ unit: definition, repoDir, log: silentLogger });
}

const paths = (set: ReadSet) => set.entries.map((e) => e.path);
const why = (set: ReadSet, path: string) => set.entries.find((e) => e.path === path)?.why;

test('best-practice layout: the playbooks it imports, the roles they use (with dependencies and includes), vars, group_vars, templates', async () => {
  const set = await readsOf(join(FIXTURES, 'best-practice'), unit('inventories/production', { inventory: 'inventories/production/hosts.yml', playbook: 'site.yml' }));
  assert.deepEqual(paths(set).sort(), [
    'ansible.cfg',
    'dbservers.yml',
    'files',
    'filter_plugins',
    'group_vars',
    'host_vars',
    'inventories/production/ansible.cfg',
    'inventories/production/group_vars',
    'inventories/production/host_vars',
    'inventories/production/hosts.yml',
    'inventories/production/known_hosts',
    'library',
    'roles/common',
    'roles/database',
    'roles/monitoring',
    'roles/webtier',
    'site.yml',
    'tasks/motd.j2',
    'tasks/templates/motd.j2',
    'tasks/webservers-extra.yml',
    'templates',
    'templates/motd.j2',
    'vars/release.yml',
    'webservers.yml',
  ]);
  assert.ok(!paths(set).includes('roles/unused'), 'a role nobody uses is not read');
  assert.ok(!paths(set).some((p) => p.startsWith('inventories/staging')), 'another environment is not read');
  assert.equal(why(set, 'site.yml'), 'the playbook of inventory production');
  assert.equal(why(set, 'webservers.yml'), 'import_playbook in site.yml:2');
  assert.equal(why(set, 'vars/release.yml'), 'vars_files in webservers.yml:4');
  assert.equal(why(set, 'roles/webtier'), 'role "webtier" in webservers.yml:7');
  assert.equal(why(set, 'roles/monitoring'), 'include_role "monitoring" in roles/webtier/tasks/main.yml:2');
  assert.equal(why(set, 'roles/database'), 'role "database" in dbservers.yml:5');
  assert.equal(why(set, 'tasks/webservers-extra.yml'), 'import_tasks "tasks/webservers-extra.yml" in webservers.yml:10');
  assert.equal(why(set, 'templates/motd.j2'), 'template src "motd.j2" in tasks/webservers-extra.yml:4');
  assert.equal(why(set, 'tasks/templates/motd.j2'), 'template src "motd.j2" in tasks/webservers-extra.yml:4: not there; read instead of templates/motd.j2 if added');
  assert.equal(why(set, 'group_vars'), 'group_vars next to the playbook site.yml');
  assert.equal(why(set, 'inventories/production/group_vars'), 'group_vars next to the inventory inventories/production/hosts.yml');
  // No ansible.cfg anywhere: adding one in either place plans the inventory again.
  assert.equal(why(set, 'inventories/production/ansible.cfg'), 'the ansible.cfg of this inventory: not there; read from here if added');
  assert.equal(why(set, 'ansible.cfg'), 'the ansible.cfg of this inventory: not there; read from here if added');
  assert.deepEqual(set.notes, [
    'include_vars "{{ ansible_os_family }}.yml" (tasks/webservers-extra.yml:2) is built from a Jinja expression: not followed (add a watch: glob for it)',
    'include_tasks "{{ db_engine }}.yml" (roles/database/tasks/main.yml:2) is built from a Jinja expression: not followed (add a watch: glob for it)',
  ]);
});

test('galaxy-style layout: roles resolved through roles_path of the root ansible.cfg, dependencies from meta, collections and templates noted', async () => {
  const set = await readsOf(join(FIXTURES, 'galaxy'), unit('inventories/web', { inventory: 'inventory/hosts.ini', playbook: 'playbooks/web.yml' }));
  assert.deepEqual(paths(set), [
    'inventories/web/ansible.cfg',
    'playbooks/ansible.cfg',
    'ansible.cfg',
    'plugins/filter',
    'inventory/hosts.ini',
    'inventory/group_vars',
    'inventory/host_vars',
    'inventories/web/known_hosts',
    'playbooks/web.yml',
    'playbooks/group_vars',
    'playbooks/host_vars',
    'playbooks/templates',
    'playbooks/files',
    'playbooks/roles/acme.nginx',
    'roles/acme.nginx',
    'vendor/roles/acme.nginx',
    'vendor/roles/acme.common',
    'playbooks/roles/site_config',
    'roles/site_config',
  ]);
  assert.equal(why(set, 'ansible.cfg'), 'the ansible.cfg of this inventory');
  assert.equal(why(set, 'playbooks/ansible.cfg'), 'the ansible.cfg of this inventory: not there; read instead of ansible.cfg if added');
  assert.equal(why(set, 'vendor/roles/acme.nginx'), 'role "acme.nginx" in playbooks/web.yml:8');
  assert.equal(why(set, 'roles/acme.nginx'), 'role "acme.nginx" in playbooks/web.yml:8: not there; read instead of vendor/roles/acme.nginx if added');
  assert.equal(why(set, 'vendor/roles/acme.common'), 'dependency "acme.common" of role vendor/roles/acme.nginx in vendor/roles/acme.nginx/meta/main.yml:7');
  assert.equal(why(set, 'plugins/filter'), 'filter_plugins in ansible.cfg');
  assert.ok(!paths(set).includes('requirements.yml'));
  assert.deepEqual(set.notes, [
    'roles_path "~/.ansible/roles" in ansible.cfg is outside the repository: not followed',
    'role "acme.tools.hardening" in playbooks/web.yml:10 comes from a collection, not from the repository: not followed',
    'include_role "{{ extra_role }}" in playbooks/web.yml:13 is built from a Jinja expression: not followed (add a watch: glob for it)',
    'include_vars "/etc/acme/settings.yml" (playbooks/web.yml:16) is not in the repository and may be read from outside it: not followed',
  ]);
});

test('an inventory folder, a known_hosts on the control host, cycles, broken YAML and paths outside the repository', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'plumbline-reads-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  };
  try {
    write('inventory/mycluster/hosts.yaml', 'all: {}\n');
    write('inventory/mycluster/group_vars/all/all.yml', 'x: 1\n');
    write('cluster.yml', '- import_playbook: ../outside.yml\n- import_playbook: "{{ which }}.yml"\n- import_playbook: upgrade.yml\n- hosts: all\n  roles: [a]\n');
    write('upgrade.yml', '- hosts: all\n  tasks: [\n');
    write('roles/a/meta/main.yaml', 'dependencies: [b]\n');
    write('roles/b/meta/main.yml', 'dependencies: [{role: a}]\n');
    const set = await readsOf(
      repo,
      unit('inventories/cluster', {
        inventory: 'inventory/mycluster',
        playbook: 'cluster.yml',
        ssh: { user: null, privateKeyFile: null, knownHostsFile: '/etc/plumbline/known_hosts', port: null },
      }),
    );
    const found = paths(set);
    assert.ok(found.includes('inventory/mycluster'));
    assert.ok(!found.includes('inventory/group_vars'), 'an inventory folder holds its own group_vars');
    assert.ok(found.includes('roles/a') && found.includes('roles/b'), 'a dependency cycle is followed once');
    assert.ok(found.includes('upgrade.yml'));
    assert.ok(!found.some((p) => p.startsWith('..') || p.startsWith('/')), 'nothing outside the repository');
    assert.deepEqual(set.notes, [
      'the known_hosts /etc/plumbline/known_hosts is on the control host, outside the repository',
      'import_playbook "../outside.yml" (cluster.yml:1) is outside the repository: not followed',
      'import_playbook "{{ which }}.yml" (cluster.yml:2) is built from a Jinja expression: not followed (add a watch: glob for it)',
      'upgrade.yml is not valid YAML: what it includes is not followed (plumbline validate says why)',
    ]);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});
