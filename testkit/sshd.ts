import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { type SshHost, startSshHosts, type SshHosts } from './ssh-hosts.ts';

/**
 * Real sshd hosts on loopback for an Ansible integration test file. Each file
 * uses its own address range (127.0.0.10-12, 127.0.0.20-22...) so files can
 * run in parallel; the port is picked free on the first address.
 */
export class TestHosts {
  private constructor(
    readonly dir: string,
    readonly ssh: SshHosts,
  ) {}

  static async start(options: { firstAddress: string; count?: number; names?: string[] }): Promise<TestHosts> {
    const dir = mkdtempSync(join(tmpdir(), 'plumbline-sshd-'));
    const port = await freePort(options.firstAddress);
    const ssh = await startSshHosts({ count: options.count ?? 3, firstAddress: options.firstAddress, port, dir, names: options.names });
    return new TestHosts(dir, ssh);
  }

  get hosts() {
    return this.ssh.hosts;
  }

  host(name: string) {
    const host = this.ssh.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no test host ${name}`);
    return host;
  }

  /** known_hosts as the hosts started: a key rotated since keeps its old line, as a client's file would. */
  knownHosts(): string {
    return readFileSync(this.ssh.knownHostsFile, 'utf8');
  }

  /** known_hosts of the hosts' keys now, rotated ones included. */
  async currentKnownHosts(): Promise<string> {
    return (await Promise.all(this.ssh.hosts.map(async (h) => `${h.knownHostsName} ${await h.publicKey()}\n`))).join('');
  }

  /** A YAML inventory listing every host, with its root folder as `plumbline_root`. */
  inventoryYaml(group = 'web'): string {
    return hostsInventoryYaml(this.ssh.hosts, group);
  }

  /**
   * The files of an inventory folder `dir` (e.g. `inventories/web`) reaching
   * these hosts: its manifest, the hosts and their keys, and the playbook.
   */
  inventoryFolder(dir: string, files: { manifest: string; playbook: string; group?: string }): Record<string, string> {
    return {
      [`${dir}/inventory.yaml`]: files.manifest,
      [`${dir}/hosts.yml`]: this.inventoryYaml(files.group),
      [`${dir}/known_hosts`]: this.knownHosts(),
      [`${dir}/site.yml`]: files.playbook,
    };
  }

  /** daemon config lines for the `ansible:` section. */
  ansibleConfig(extra: string[] = []): string {
    return ['ansible:', `  privateKeyFile: ${this.ssh.privateKeyFile}`, ...extra.map((l) => `  ${l}`)].join('\n');
  }

  readOnHost(name: string, path: string): string {
    return readFileSync(join(this.host(name).root, path), 'utf8');
  }

  async dispose(): Promise<void> {
    await this.ssh.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A standard YAML inventory: every host in `group`, reached at its loopback
 * address and port, its root folder as `plumbline_root`; `vars` for all hosts.
 */
export function hostsInventoryYaml(hosts: readonly SshHost[], group: string, vars: Record<string, string> = {}): string {
  const lines = ['all:', '  vars:', '    ansible_python_interpreter: /usr/bin/python3'];
  for (const [k, v] of Object.entries(vars)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  lines.push('  children:', `    ${group}:`, '      hosts:');
  for (const h of hosts) {
    lines.push(`        ${h.name}:`, `          ansible_host: ${h.address}`, `          ansible_port: ${h.port}`, `          plumbline_root: ${h.root}`);
  }
  return `${lines.join('\n')}\n`;
}
