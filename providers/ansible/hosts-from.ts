import { z } from 'zod';
import { describeValue, formatPath, secrets, ToolError } from '../../engine/provider-kit.ts';
import { keyTypeOf, lookupName } from './known-hosts.ts';

/**
 * An inventory's `hostsFrom`: hosts that an upstream unit (typically the
 * stack that created the machines) publishes as an output. The output is
 * either a list of hosts, each with its `name`, or a mapping of name to host:
 *
 *   [{name: web-1, address: 10.0.0.5, port: 22, user: deploy, groups: [web],
 *     vars: {zone: a}, hostKey: "ssh-ed25519 AAAA..."}]
 *
 * The value is checked here, at plan time, because only then is it known;
 * a bad entry stops the run (stalled) with the unit, the output and the entry.
 * Valid hosts become an extra Ansible inventory (beside the static one) and,
 * for those with a `hostKey`, lines of the run's known_hosts.
 */

/** Ansible host names: no spaces, no patterns (`*`, `:`, `,`, `!`, `&`), not starting with `-`. */
const HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Ansible group and variable names. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_GROUPS = new Set(['all', 'ungrouped']);
/** Set by `address`, `port` and `user`; the same in `vars` would be ambiguous. */
const CONNECTION_VARS = new Map([
  ['ansible_host', 'address'],
  ['ansible_ssh_host', 'address'],
  ['ansible_port', 'port'],
  ['ansible_ssh_port', 'port'],
  ['ansible_user', 'user'],
  ['ansible_ssh_user', 'user'],
]);
/** `ssh-ed25519 AAAA... [comment]`: a public key line as ssh-keygen writes it. */
const PUBLIC_KEY = /^([a-z0-9][a-z0-9@.-]*)\s+([A-Za-z0-9+/]+={0,3})(?:\s+.*)?$/;

/** One public key line, or a list of them (a host with several key types). */
const hostKeySchema = z.unknown().transform((value, ctx): string[] => {
  const lines = Array.isArray(value) ? value : [value];
  const keys: string[] = [];
  for (const line of lines) {
    const match = typeof line === 'string' ? PUBLIC_KEY.exec(line.trim()) : null;
    const blob = match ? Buffer.from(match[2]!, 'base64') : undefined;
    if (!match || !blob || blob.length === 0 || keyTypeOf(blob) !== match[1]) {
      ctx.issues.push({ code: 'custom', input: line, message: `must be a public key line such as "ssh-ed25519 AAAA..." or a list of them (got ${describeValue(line)})` });
      return z.NEVER;
    }
    keys.push(`${match[1]} ${match[2]}`);
  }
  return keys;
});

/** A number, or digits in a string (Terraform's map(string) turns numbers into strings). */
const portSchema = z.unknown().transform((value, ctx): number => {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    ctx.issues.push({ code: 'custom', input: value, message: `must be a port number from 1 to 65535 (got ${describeValue(value)})` });
    return z.NEVER;
  }
  return port;
});

const entryFields = {
  name: z.string().regex(HOST_NAME, 'must be a host name: letters, digits, "_", "." and "-", not starting with "." or "-"').nullish(),
  address: z.string().regex(/^[^\s-][^\s]*$/, 'must be a host name or IP address, without spaces'),
  port: portSchema.nullish(),
  user: z.string().min(1).regex(/^[^\s-][^\s]*$/, 'must be a user name, without spaces').nullish(),
  groups: z
    .array(
      z
        .string()
        .regex(IDENTIFIER, 'must be a group name: letters, digits and "_", not starting with a digit')
        .refine((g) => !RESERVED_GROUPS.has(g), 'all and ungrouped are implicit groups'),
    )
    .nullish(),
  vars: z
    .record(z.string(), z.unknown())
    .superRefine((vars, ctx) => {
      for (const key of Object.keys(vars)) {
        const field = CONNECTION_VARS.get(key);
        if (field) ctx.addIssue({ code: 'custom', path: [key], message: `set the host's ${field} instead` });
        else if (!IDENTIFIER.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'invalid variable name (use letters, digits and "_", not starting with a digit)' });
      }
    })
    .nullish(),
  hostKey: hostKeySchema.nullish(),
};

const entrySchema = z.strictObject(entryFields);

export interface UpstreamHost {
  name: string;
  address: string;
  port: number | null;
  user: string | null;
  groups: string[];
  vars: Record<string, unknown>;
  /** `type base64` lines, comments dropped. */
  hostKeys: string[];
}

/**
 * Validate the resolved `hostsFrom` value. `owner` is the inventory, `reference`
 * the `fromOutput` text (`machines.hosts`), both for messages.
 */
export function parseHostsFrom(value: unknown, owner: string, reference: string): UpstreamHost[] {
  const problems: string[] = [];
  const hosts: UpstreamHost[] = [];
  let entries: Array<{ label: string; key?: string; raw: unknown }>;
  if (Array.isArray(value)) {
    entries = value.map((raw, index) => ({ label: `[${index}]${nameOf(raw)}`, raw }));
  } else if (value !== null && typeof value === 'object') {
    entries = Object.entries(value).map(([key, raw]) => ({ label: `[${JSON.stringify(key)}]`, key, raw }));
  } else {
    throw hostsFromError(owner, reference, [`must be a list of hosts or a mapping of host name to host (got ${describeValue(value)})`]);
  }
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const parsed = entrySchema.safeParse(entry.raw, { reportInput: true });
    if (!parsed.success) {
      problems.push(`entry ${entry.label}: ${parsed.error.issues.map(describeIssue).join('; ')}`);
      continue;
    }
    const host = parsed.data;
    let name: string;
    if (entry.key !== undefined) {
      if (!HOST_NAME.test(entry.key)) {
        problems.push(`entry ${entry.label}: the key must be a host name: letters, digits, "_", "." and "-", not starting with "." or "-"`);
        continue;
      }
      if (host.name && host.name !== entry.key) {
        problems.push(`entry ${entry.label}: name "${host.name}" differs from its key`);
        continue;
      }
      name = entry.key;
    } else if (!host.name) {
      problems.push(`entry ${entry.label}: name: required in a list of hosts (or publish a mapping of name to host)`);
      continue;
    } else name = host.name;
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push(`entry ${entry.label}: host ${name} is listed twice (also entry ${first})`);
      continue;
    }
    seen.set(name, entry.label);
    hosts.push({
      name,
      address: host.address,
      port: host.port ?? null,
      user: host.user ?? null,
      groups: [...new Set(host.groups ?? [])],
      vars: host.vars ?? {},
      hostKeys: host.hostKey ?? [],
    });
  }
  if (problems.length > 0) throw hostsFromError(owner, reference, problems);
  return hosts;
}

function nameOf(raw: unknown): string {
  const name = raw !== null && typeof raw === 'object' ? (raw as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name.length <= 64 ? ` (${name})` : '';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path.filter((p): p is string | number => typeof p !== 'symbol'));
  const got = 'input' in issue ? issue.input : undefined;
  let message: string;
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (allowed: ${Object.keys(entryFields).join(', ')})`;
  } else if (issue.code === 'invalid_type' && got === undefined) {
    message = 'required';
  } else if (issue.code === 'invalid_type') {
    message = `must be ${EXPECTED[issue.expected] ?? issue.expected} (got ${describeValue(got)})`;
  } else {
    message = issue.message;
  }
  return path ? `${path}: ${message}` : message;
}

const EXPECTED: Record<string, string> = { string: 'a string', object: 'a mapping', record: 'a mapping', array: 'a list' };

function hostsFromError(owner: string, reference: string, problems: string[]): ToolError {
  const shown = problems.slice(0, 10);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : '';
  return new ToolError('E_HOSTS_FROM', secrets.maskText(`${owner}: hostsFrom ${reference}: ${shown.join('; ')}${more}`), {
    retry: 'stalled',
    hint: `fix the output of the upstream unit (each host needs a name and an address; port, user, groups, vars and hostKey are optional) and apply it, or fix hostsFrom in the inventory; see docs/definitions.md`,
  });
}

/**
 * The hosts as an Ansible YAML inventory (JSON is YAML, and strings stay
 * strings). Connection fields become `ansible_host`, `ansible_port` and
 * `ansible_user`; groups list their hosts under `all.children`.
 */
export function generatedInventory(hosts: readonly UpstreamHost[]): string {
  const hostvars: Record<string, Record<string, unknown>> = {};
  const groups: Record<string, { hosts: Record<string, null> }> = {};
  for (const h of hosts) {
    hostvars[h.name] = {
      ...h.vars,
      ansible_host: h.address,
      ...(h.port !== null ? { ansible_port: h.port } : {}),
      ...(h.user !== null ? { ansible_user: h.user } : {}),
    };
    for (const g of h.groups) (groups[g] ??= { hosts: {} }).hosts[h.name] = null;
  }
  return `${JSON.stringify({ all: { hosts: hostvars, children: groups } }, null, 1)}\n`;
}

/**
 * known_hosts lines for the upstream keys: each key is trusted for the address
 * and port the upstream declared (`[address]:port` when the port is not 22),
 * never for another name.
 */
export function knownHostsLines(hosts: readonly UpstreamHost[], defaultPort: number | null): string[] {
  return hosts.flatMap((h) => h.hostKeys.map((key) => `${lookupName(h.address, h.port ?? defaultPort ?? 22)} ${key}`));
}
