import { userInfo } from 'node:os';
import { z } from 'zod';
import { ToolError } from '../../engine/provider-kit.ts';

/**
 * The hosts of an inventory, from `ansible-inventory --list` (JSON): names,
 * groups, and the connection variables the preflight needs. Values Ansible
 * would template at run time (`{{ ... }}`) are not resolved here; such hosts
 * are left to Ansible by the preflight.
 */

const groupSchema = z.looseObject({
  hosts: z.array(z.string()).optional(),
  children: z.array(z.string()).optional(),
});

export const inventoryListSchema = z.looseObject({
  _meta: z.looseObject({ hostvars: z.record(z.string(), z.record(z.string(), z.unknown())) }).optional(),
});

export interface InventoryList {
  hosts: string[];
  hostvars: Record<string, Record<string, unknown>>;
}

export interface HostTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  /** `ansible_connection`, `ssh` when unset. */
  connection: string;
  /** Reached over OpenSSH (what the preflight can check). */
  ssh: boolean;
  /** Address, port or user is a Jinja template: only Ansible can resolve it. */
  templated: boolean;
  privateKeyFile: string | null;
  /** `ansible_python_interpreter` when set to an absolute path. */
  python: string | null;
}

export function parseInventoryList(stdout: string): InventoryList {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch (error) {
    throw new ToolError('E_ANSIBLE_INVENTORY', `ansible-inventory printed invalid JSON: ${(error as Error).message}`, { retry: 'stalled', cause: error });
  }
  const parsed = inventoryListSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ToolError('E_ANSIBLE_INVENTORY', `unexpected ansible-inventory JSON: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { retry: 'stalled' });
  }
  const hostvars = parsed.data._meta?.hostvars ?? {};
  const hosts = new Set(Object.keys(hostvars));
  for (const [group, value] of Object.entries(parsed.data)) {
    if (group === '_meta') continue;
    const g = groupSchema.safeParse(value);
    if (g.success) for (const h of g.data.hosts ?? []) hosts.add(h);
  }
  return { hosts: [...hosts].sort(), hostvars };
}

/** Connection settings for one host, as Ansible's ssh connection would pick them. */
export function hostTarget(
  name: string,
  vars: Record<string, unknown>,
  defaults: { user: string | null; port: number | null; privateKeyFile: string | null },
): HostTarget {
  const pick = (...keys: string[]): unknown => keys.map((k) => vars[k]).find((v) => v !== undefined && v !== null);
  const address = pick('ansible_host', 'ansible_ssh_host') ?? name;
  const port = pick('ansible_port', 'ansible_ssh_port') ?? defaults.port ?? 22;
  const user = pick('ansible_user', 'ansible_ssh_user') ?? defaults.user ?? userInfo().username;
  const key = pick('ansible_ssh_private_key_file', 'ansible_private_key_file') ?? defaults.privateKeyFile;
  const connection = String(pick('ansible_connection') ?? 'ssh');
  const python = pick('ansible_python_interpreter');
  const templated = [address, port, user, key].some((v) => typeof v === 'string' && v.includes('{{')) || [address, user].some((v) => typeof v !== 'string');
  return {
    name,
    address: String(address),
    port: Number(port) || 22,
    user: String(user),
    connection,
    ssh: connection === 'ssh' || connection === 'ansible.builtin.ssh' || connection === 'smart',
    templated,
    privateKeyFile: typeof key === 'string' && !key.includes('{{') ? key : null,
    python: typeof python === 'string' && python.startsWith('/') && !python.includes('{{') ? python : null,
  };
}
