import { isAbsolute } from 'node:path';
import { z } from 'zod';
import {
  describeValue,
  isMapping,
  type ManifestFile,
  type ManifestPart,
  type ProblemCollector,
  type RawMapping,
  resolveInUnit,
  type UnitFolder,
  type YamlPath,
} from '../../engine/provider-kit.ts';

/** `inventory.yaml`, in a folder anywhere under `inventories/`: an inventory is Ansible, `kind:` may be left out. */
export const INVENTORY_MANIFEST: ManifestFile = {
  type: 'inventory',
  folder: 'inventories',
  fileName: 'inventory.yaml',
  defaultKind: 'ansible',
  variableNames: { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, rule: 'letters, digits and "_"' },
  secretVars: false,
};

/** How Ansible connects to the hosts of an inventory. */
export interface SshSettings {
  /** Remote user, or null for Ansible's own default. */
  user: string | null;
  /** Absolute path on the control host (private keys never come from Git), or null. */
  privateKeyFile: string | null;
  /** Repository-relative (inside the inventory folder) or absolute; default `<folder>/known_hosts`. */
  knownHostsFile: string;
  port: number | null;
}

/** An inventory's fields (`UnitDefinition.spec` of an `ansible` unit). */
export interface InventorySpec {
  /**
   * Repository-relative path of the static Ansible inventory (file or folder);
   * default `<folder>/hosts.yml`. Null for an inventory whose hosts all come
   * from `hostsFrom` (no `inventory:` set and no `hosts.yml` in the folder).
   */
  inventory: string | null;
  /**
   * Hosts from an upstream unit's output (`{fromOutput: "machines.hosts"}`),
   * merged with the static inventory; absent when the manifest has none. A
   * run gets it resolved (`RunRequest.resolvedSpec`).
   */
  hostsFrom?: { fromOutput: string };
  /** Repository-relative path of the playbook. */
  playbook: string;
  ssh: SshSettings;
  /** Ansible's `--forks`, or null for its default. */
  forks: number | null;
  /** When false, an unreachable host fails the run. */
  allowUnreachable: boolean;
}

/** An inventory's spec as a run gets it: `hostsFrom` is the upstream output's value. */
export type ResolvedInventorySpec = Omit<InventorySpec, 'hostsFrom'> & { hostsFrom?: unknown };

const DEFAULT_INVENTORY = 'hosts.yml';
const DEFAULT_KNOWN_HOSTS = 'known_hosts';

const text = z.string().min(1);

/**
 * `hostsFrom: {fromOutput: machines.hosts}`: the inventory's hosts come (also)
 * from an upstream unit's output. Only the shape is checked here; the reference
 * text and its unit (must be in dependsOn) are checked by the loader, the
 * output's value by the provider at plan time (hosts-from.ts).
 */
const hostsFromSchema = z.unknown().transform((value, ctx): { fromOutput: string } => {
  if (isReferenceMapping(value)) return { fromOutput: value.fromOutput };
  const others = isMapping(value) && 'fromOutput' in value ? Object.keys(value).filter((k) => k !== 'fromOutput') : [];
  ctx.issues.push({
    code: 'custom',
    input: value,
    message:
      others.length > 0
        ? `a reference holds fromOutput and nothing else (got also ${others.join(', ')}); the upstream output itself must list the hosts`
        : `must be a reference to an output of a unit in dependsOn, {fromOutput: <unit>.<output>}, whose value lists the hosts (got ${describeValue(value)})`,
  });
  return z.NEVER;
});

function isReferenceMapping(value: unknown): value is { fromOutput: string } {
  if (!isMapping(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'fromOutput' && typeof value.fromOutput === 'string' && value.fromOutput !== '';
}

const fields = {
  inventory: text.optional(),
  hostsFrom: hostsFromSchema.optional(),
  playbook: text,
  ssh: z
    .strictObject({
      user: text.optional(),
      privateKeyFile: text.optional(),
      knownHostsFile: text.optional(),
      port: z.int().min(1).max(65535).optional(),
    })
    .nullish(),
  forks: z.int().min(1).optional(),
  allowUnreachable: z.boolean().optional(),
};

type Fields = z.output<z.ZodObject<typeof fields>>;

export const ansibleManifest: ManifestPart<InventorySpec> = {
  file: INVENTORY_MANIFEST,
  fields,
  async read({ raw, parsed, folder, report }) {
    const inventory = await staticInventory(raw, folder, report);
    const playbook = raw.playbook === undefined ? null : await checkFolderPath(raw.playbook, ['playbook'], folder, report, { file: true });
    const ssh = await checkSsh(raw.ssh, folder, report);
    if (!parsed || inventory === undefined || !playbook || !ssh) return undefined;
    const m = parsed as Fields;
    return {
      inventory,
      ...(m.hostsFrom ? { hostsFrom: m.hostsFrom } : {}),
      playbook,
      ssh,
      forks: m.forks ?? null,
      allowUnreachable: m.allowUnreachable ?? false,
    };
  },
};

/**
 * The static inventory, repository-relative. `inventory:` must exist when set;
 * unset, it is `hosts.yml`, which must exist unless `hostsFrom` brings the
 * hosts (then null when the folder has none). undefined: a problem was reported.
 */
async function staticInventory(raw: RawMapping, unit: UnitFolder, report: ProblemCollector): Promise<string | null | undefined> {
  if (raw.inventory === undefined && raw.hostsFrom !== undefined) {
    const resolved = await resolveInUnit(unit, DEFAULT_INVENTORY, { mustExist: false });
    if (!resolved.ok) {
      report.at(['inventory'], `${resolved.message} (the default when inventory is not set)`, ['hostsFrom']);
      return undefined;
    }
    return resolved.exists ? resolved.path : null;
  }
  return (await checkFolderPath(raw.inventory ?? DEFAULT_INVENTORY, ['inventory'], unit, report, { file: false })) ?? undefined;
}

/** A path that must exist inside the folder; returns it repository-relative. */
async function checkFolderPath(
  value: unknown,
  path: YamlPath,
  unit: UnitFolder,
  report: ProblemCollector,
  options: { file: boolean },
): Promise<string | null> {
  if (typeof value !== 'string' || value === '') return null;
  const resolved = await resolveInUnit(unit, value, { mustExist: true });
  if (!resolved.ok) {
    const isDefault = path[0] === 'inventory' && value === DEFAULT_INVENTORY;
    report.at(path, isDefault ? `${resolved.message} (the default when inventory is not set)` : resolved.message);
    return null;
  }
  if (options.file && !resolved.isFile) {
    report.at(path, `${JSON.stringify(value)} is not a file`);
    return null;
  }
  return resolved.path;
}

async function checkSsh(raw: unknown, unit: UnitFolder, report: ProblemCollector): Promise<SshSettings | null> {
  const ssh = isMapping(raw) ? raw : {};
  let ok = true;
  const key = ssh.privateKeyFile;
  if (typeof key === 'string' && key !== '' && !isAbsolute(key)) {
    report.at(
      ['ssh', 'privateKeyFile'],
      `must be an absolute path on the control host (got ${JSON.stringify(key)}); private keys never come from Git`,
    );
    ok = false;
  }
  let knownHostsFile: string | null = null;
  const named = ssh.knownHostsFile !== undefined;
  const known = ssh.knownHostsFile ?? DEFAULT_KNOWN_HOSTS;
  if (typeof known === 'string' && known !== '') {
    if (isAbsolute(known)) knownHostsFile = known;
    else {
      // A file the manifest names must be in the commit; the default may be
      // absent (the hosts' keys may come from hostsFrom, or from the control host).
      const resolved = await resolveInUnit(unit, known, { mustExist: named });
      if (resolved.ok) knownHostsFile = resolved.path;
      else report.at(['ssh', 'knownHostsFile'], resolved.message);
    }
  }
  if (!ok || knownHostsFile === null) return null;
  return {
    user: typeof ssh.user === 'string' ? ssh.user : null,
    privateKeyFile: typeof key === 'string' ? key : null,
    knownHostsFile,
    port: typeof ssh.port === 'number' ? ssh.port : null,
  };
}
