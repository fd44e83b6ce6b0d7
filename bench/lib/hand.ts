import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshHost } from '../../testkit/ssh-hosts.ts';
import { hostsInventoryYaml } from '../../testkit/sshd.ts';

/** Run a tool the way an operator would at a shell; returns the wall time in ms. Exit codes other than `okExitCodes` (default 0) fail. */
export async function timed(command: string, args: string[], options: { cwd: string; env: Record<string, string | undefined>; okExitCodes?: readonly number[] }): Promise<number> {
  const ok = options.okExitCodes ?? [0];
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8000)));
    child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8000)));
    child.once('error', reject);
    child.once('exit', (code) => (code !== null && ok.includes(code) ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
  return performance.now() - started;
}

/** The environment without variables that would change how terraform or ansible behave. */
export function cleanEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(ANSIBLE_|TF_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * A folder to run `ansible-playbook` on `hosts` by hand: `hosts.yml` (group
 * `fleet`, the pool's key and known_hosts) and `site.yml`. Ansible's
 * defaults otherwise (forks 5, no pipelining, its own ControlPersist); only
 * where it keeps its local files moves under the run's folders.
 */
export function handAnsible(
  dir: (name: string) => string,
  name: string,
  options: { hosts: readonly SshHost[]; privateKeyFile: string; knownHostsFile: string; play: string },
): { cwd: string; env: Record<string, string | undefined> } {
  const cwd = dir(name);
  writeFileSync(
    join(cwd, 'hosts.yml'),
    hostsInventoryYaml(options.hosts, 'fleet', { ansible_ssh_private_key_file: options.privateKeyFile, ansible_ssh_common_args: `-o UserKnownHostsFile=${options.knownHostsFile}` }),
  );
  writeFileSync(join(cwd, 'site.yml'), options.play);
  return { cwd, env: cleanEnv({ ANSIBLE_CONTROL_PATH_DIR: dir(`${name}-cp`), ANSIBLE_LOCAL_TEMP: dir(`${name}-tmp`) }) };
}
