import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshHost } from '../../testkit/ssh-hosts.ts';
import { hostsInventoryYaml } from '../../testkit/sshd.ts';

/**
 * The synthetic repositories: Terraform stacks of `terraform_data` only (no
 * provider download, no cloud account) and Ansible inventories against the
 * benchmark's loopback SSH hosts.
 */

export interface StackOptions {
  /** Value of the `value` variable; changing it changes every resource. */
  value: string;
  /** terraform_data resources (default 1). */
  resources?: number;
  /** Upstream stack whose `value` output feeds the `upstream` variable. */
  upstream?: string;
  /** A local-exec provisioner sleeping this many seconds on every change (a slow cloud API). */
  sleepSeconds?: number;
}

/** `stacks/<name>/stack.yaml` and `main.tf`. */
export function stackFiles(name: string, options: StackOptions): Record<string, string> {
  const resources = options.resources ?? 1;
  const manifest = [
    'kind: terraform',
    'approval: auto',
    ...(options.upstream ? [`dependsOn: [${options.upstream}]`] : []),
    'vars:',
    `  value: ${JSON.stringify(options.value)}`,
    ...(options.upstream ? [`  upstream: {fromOutput: ${options.upstream}.value}`] : []),
    '',
  ].join('\n');
  const input = options.upstream ? '"${var.value}/${var.upstream}-${count.index}"' : '"${var.value}-${count.index}"';
  const resource = [
    'resource "terraform_data" "item" {',
    `  count = ${resources}`,
    `  input = ${input}`,
    ...(options.sleepSeconds
      ? ['  triggers_replace = [var.value]', '  provisioner "local-exec" {', `    command = "sleep ${options.sleepSeconds}"`, '  }']
      : []),
    '}',
  ];
  const tf = [
    'variable "value" {\n  type = string\n}\n',
    ...(options.upstream ? ['variable "upstream" {\n  type = string\n}\n'] : []),
    `${resource.join('\n')}\n`,
    'output "value" {\n  value = var.value\n}\n',
  ].join('\n');
  return { [`stacks/${name}/stack.yaml`]: manifest, [`stacks/${name}/main.tf`]: tf };
}

/** The same stack as plain files for a hand-run terraform folder. */
export function handStackFiles(options: StackOptions): { mainTf: string } {
  const files = stackFiles('hand', options);
  return { mainTf: files['stacks/hand/main.tf']! };
}

/**
 * A small configuration play: a folder and two files per host, all under the
 * host's root and a folder named after the inventory, so inventories sharing
 * hosts never touch each other's files.
 */
export function configPlay(inventory: string): string {
  return `- name: ${inventory}
  hosts: fleet
  gather_facts: false
  tasks:
    - name: app folder
      ansible.builtin.file:
        path: "{{ plumbline_root }}/${inventory}"
        state: directory
        mode: "0755"
    - name: motd
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/${inventory}/motd"
        content: "{{ inventory_hostname }} runs {{ value }}\\n"
        mode: "0644"
    - name: settings
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/${inventory}/settings.conf"
        content: "value={{ value }}\\nhost={{ inventory_hostname }}\\n"
        mode: "0644"
`;
}

/**
 * Put on each host what `configPlay(inventory)` converges to with `value`,
 * so a first reconcile finds the hosts already converged (the host "disks"
 * are folders on this machine).
 */
export function seedConverged(hosts: readonly SshHost[], inventory: string, value: string): void {
  for (const h of hosts) {
    const dir = join(h.root, inventory);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'motd'), `${h.name} runs ${value}\n`);
    chmodSync(join(dir, 'motd'), 0o644);
    writeFileSync(join(dir, 'settings.conf'), `value=${value}\nhost=${h.name}\n`);
    chmodSync(join(dir, 'settings.conf'), 0o644);
  }
}

/** A play that checks reachability only (ping): planned as NoChanges, never applied. */
export const pingPlay = `- name: reachability
  hosts: fleet
  gather_facts: false
  tasks:
    - name: ping
      ansible.builtin.ping:
`;

/** `inventories/<name>/...` for Plumbline: manifest, hosts, known_hosts, play. */
export function inventoryFiles(name: string, options: { hosts: readonly SshHost[]; knownHosts: string; play: string; value?: string }): Record<string, string> {
  return {
    ...inventoryManifest(name, options.value ?? 'v0'),
    [`inventories/${name}/hosts.yml`]: hostsInventoryYaml(options.hosts, 'fleet'),
    [`inventories/${name}/known_hosts`]: options.knownHosts,
    [`inventories/${name}/site.yml`]: options.play,
  };
}

/** Only `inventories/<name>/inventory.yaml`, with a new `value`: a commit that changes every host. */
export function inventoryManifest(name: string, value: string): Record<string, string> {
  return { [`inventories/${name}/inventory.yaml`]: `playbook: site.yml\napproval: auto\nvars:\n  value: ${JSON.stringify(value)}\n` };
}
