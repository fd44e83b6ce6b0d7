import type { UnitDefinition } from '../engine/provider-kit.ts';
import type { InventorySpec } from '../providers/ansible/manifest.ts';
import { testUnit } from './providers.ts';

/** An inventory's spec as the manifest of `inventories/<name>` with only a playbook gives it, then `over`. */
export function inventorySpec(path: string, over: Partial<InventorySpec> = {}): InventorySpec {
  return {
    inventory: `${path}/hosts.yml`,
    playbook: `${path}/site.yml`,
    ssh: { user: null, privateKeyFile: null, knownHostsFile: `${path}/known_hosts`, port: null },
    forks: null,
    allowUnreachable: false,
    ...over,
  };
}

/** The `ansible` unit of the folder `path` (`inventories/web`) with this spec. */
export function inventoryUnit(path: string, spec: InventorySpec, extra: Partial<UnitDefinition> = {}): UnitDefinition {
  return testUnit({ name: path.split('/').slice(1).join('/'), type: 'inventory', kind: 'ansible', path, spec, ...extra });
}

/**
 * The play most Ansible tests converge: the `web` hosts get
 * `<plumbline_root>/site.conf` saying `listen=<listen_port>`; `extraTasks`
 * (YAML task items, indented four spaces) follow its task.
 */
export function webSitePlay(extraTasks = ''): string {
  return `- name: web servers
  hosts: web
  gather_facts: false
  tasks:
    - name: site settings
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/site.conf"
        content: "listen={{ listen_port }}\\n"
${extraTasks}`;
}
