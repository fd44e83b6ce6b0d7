import { isAbsolute } from 'node:path';
import type { YamlPath } from '../yaml/parse.ts';
import type { ProblemCollector } from '../yaml/problems.ts';
import {
  ANSIBLE_VAR_NAME,
  checkVarNames,
  isMapping,
  type RawMapping,
  schedulingOf,
  type SchedulingFields,
} from './manifest-fields.ts';
import { inventoryManifestSchema } from './schema.ts';
import type { InventorySpec, SshSettings } from './types.ts';
import { resolveInUnit, type UnitFolder } from './unit-paths.ts';

const DEFAULT_INVENTORY = 'hosts.yml';
const DEFAULT_KNOWN_HOSTS = 'known_hosts';

/**
 * Validates an `inventory.yaml` document against its folder. Returns the spec
 * only when this file has no problem at all; every problem goes to `report`.
 */
export async function readInventory(
  raw: RawMapping,
  unit: UnitFolder,
  report: ProblemCollector,
): Promise<{ spec: InventorySpec; scheduling: SchedulingFields } | null> {
  const before = report.count;
  const parsed = inventoryManifestSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) report.zodIssues(parsed.error.issues, inventoryManifestSchema);

  const inventory = await staticInventory(raw, unit, report);
  const playbook = raw.playbook === undefined ? null : await checkFolderPath(raw.playbook, ['playbook'], unit, report, { file: true });
  const ssh = await checkSsh(raw.ssh, unit, report);
  checkVarNames(raw.vars, 'vars', ANSIBLE_VAR_NAME, report);

  if (!parsed.success || report.count > before || inventory === undefined || !playbook || !ssh) return null;
  const m = parsed.data;
  return {
    spec: {
      kind: 'ansible',
      inventory,
      ...(m.hostsFrom ? { hostsFrom: m.hostsFrom } : {}),
      playbook,
      ssh,
      forks: m.forks ?? null,
      allowUnreachable: m.allowUnreachable ?? false,
      vars: m.vars ?? {},
    },
    scheduling: schedulingOf(m),
  };
}

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
