import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { type DaemonConfig, findExecutable, isGranted, sandboxEnabled, sandboxSettings, ToolError, type UnitDefinition } from '../../engine/provider-kit.ts';
import type { AnsibleSettings } from './settings.ts';

/**
 * What an Ansible process sees beyond its run (engine/sandbox): Ansible's own
 * Python environment when it is not a system one, the collections and roles
 * installed on the control host, and the credentials the operator gives every
 * inventory (the vault password file, `ansible.privateKeyFile`).
 */
export function ansibleToolNeeds(settings: AnsibleSettings): string[] {
  return [
    ...new Set([settings.playbookBinary, settings.inventoryBinary, settings.vaultBinary].map(pythonEnvironment).filter((p): p is string => p !== null)),
    ...installedContent(),
    ...(settings.vaultPasswordFile ? [settings.vaultPasswordFile] : []),
  ];
}

/** Folders of the system, shown to every sandbox already (engine/sandbox/bwrap-args.ts). */
const SYSTEM_PREFIXES = ['/usr', '/bin', '/sbin', '/lib', '/lib64'];

/**
 * The environment an Ansible installed outside the system lives in (a
 * virtualenv, pipx, pyenv): the folder above the binary's `bin/`, where its
 * Python and its libraries are. Null for a system install or a bare name
 * that is not found.
 */
function pythonEnvironment(binary: string): string | null {
  const found = findExecutable(binary, process.env.PATH);
  if (!found) return null;
  let real: string;
  try {
    real = realpathSync(found);
  } catch {
    return null;
  }
  if (SYSTEM_PREFIXES.some((prefix) => real.startsWith(`${prefix}/`))) return null;
  return dirname(dirname(real));
}

/** Collections and roles installed for the daemon's user or the host, and what the daemon's environment points Ansible at. */
function installedContent(home: string = homedir()): string[] {
  const fromEnv = ['ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_COLLECTIONS_PATHS', 'ANSIBLE_ROLES_PATH'].flatMap((name) => (process.env[name] ?? '').split(delimiter));
  const defaults = [join(home, '.ansible', 'collections'), join(home, '.ansible', 'roles'), '/etc/ansible/roles'];
  return [...new Set([...fromEnv, ...defaults].filter((p) => isAbsolute(p) && exists(p)))];
}

/**
 * The files an inventory's manifest names on the control host (its SSH key,
 * an absolute known_hosts): shown to its processes only when plumbline.yaml
 * grants them to the inventory. The repository names them, so without that
 * a commit could hand one inventory another's key. Nothing is checked when
 * tool runs are not sandboxed: then every file of the daemon's user is
 * within reach anyway.
 */
export async function manifestFilesGranted(unit: UnitDefinition, files: ReadonlyArray<{ field: string; path: string | null }>, config: Pick<DaemonConfig, 'sandbox'>): Promise<void> {
  const settings = sandboxSettings(config);
  const ungranted = files.filter((f): f is { field: string; path: string } => f.path !== null && !isGranted(settings, unit.name, f.path));
  if (ungranted.length === 0 || !(await sandboxEnabled(settings.mode))) return;
  throw new ToolError(
    'E_SANDBOX_NOT_GRANTED',
    `${unit.file} names ${ungranted.map((f) => `${f.path} (${f.field})`).join(', ')} on the control host, which plumbline.yaml does not grant to ${unit.name}`,
    {
      retry: 'stalled',
      hint: `grant it in plumbline.yaml (sandbox.grants: - units: [${unit.name}] readable: [${ungranted[0]!.path}]), or set ansible.privateKeyFile there for every inventory; a commit cannot give an inventory a file of the control host by itself`,
    },
  );
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
