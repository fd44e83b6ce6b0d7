import type { ApprovalPolicy } from '../model.ts';

/**
 * A unit is one thing Plumbline reconciles: a stack (`stacks/<name>/stack.yaml`)
 * or an inventory (`inventories/<name>/inventory.yaml`). Names are unique across
 * both, so `dependsOn` can point at either.
 */
export type UnitKind = 'terraform' | 'cdktf' | 'ansible';

/** Where a secret variable's value comes from on the control host; never Git. */
export interface SecretSource {
  env?: string;
  file?: string;
}

export interface StackSpec {
  kind: 'terraform' | 'cdktf';
  /** cdktf only: repository-relative path of the TypeScript entry, inside the stack folder. */
  entry: string | null;
  /** cdktf only: which stack of the app to use when it synthesizes several. */
  stackName: string | null;
  vars: Record<string, unknown>;
  /** Sensitive variables resolved on the control host at run time. */
  secretVars: Record<string, SecretSource>;
}

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

export interface InventorySpec {
  kind: 'ansible';
  /**
   * Repository-relative path of the static Ansible inventory (file or folder);
   * default `<folder>/hosts.yml`. Null for an inventory whose hosts all come
   * from `hostsFrom` (no `inventory:` set and no `hosts.yml` in the folder).
   */
  inventory: string | null;
  /**
   * Hosts from an upstream unit's output (`{fromOutput: "machines.hosts"}`),
   * merged with the static inventory; absent when the manifest has none.
   */
  hostsFrom?: { fromOutput: string };
  /** Repository-relative path of the playbook. */
  playbook: string;
  ssh: SshSettings;
  /** Ansible's `--forks`, or null for its default. */
  forks: number | null;
  /** When false, an unreachable host fails the run. */
  allowUnreachable: boolean;
  vars: Record<string, unknown>;
  [key: string]: unknown;
}

export interface UnitDefinition {
  name: string;
  type: 'stack' | 'inventory';
  kind: UnitKind;
  /** Repository-relative folder, forward slashes, no trailing slash (`stacks/web`). */
  path: string;
  /** Repository-relative manifest file (`stacks/web/stack.yaml`). */
  file: string;
  approval: ApprovalPolicy;
  /** Review window before an automatic apply, or null to apply at once. */
  applyAfterMs: number | null;
  dependsOn: string[];
  spec: StackSpec | InventorySpec;
  /**
   * Repository-relative globs (`watch:` in the manifest): a commit touching a
   * matching path plans the unit, beyond what its provider says it reads.
   */
  watch?: string[];
  /** sha256 of the manifest text: part of every plan's inputs. */
  manifestHash: string;
  /** Drift checks of this unit; the daemon's `defaults.drift` when absent. */
  drift?: DriftPolicy;
  /** Its folder removed: plan the destroy of what it manages (true) or keep it Orphaned (false, the default). */
  prune?: boolean;
  /** Limits above which a plan waits for a person whatever `approval` says. */
  guard?: Guard;
}

export interface Guard {
  /** Resources a plan may destroy or replace (Ansible: tasks that remove something). */
  maxDestroy?: number;
  /** Hosts a plan may change. */
  maxHosts?: number;
}

/** How often to look for drift (null: never) and what to do about it. */
export interface DriftPolicy {
  intervalMs: number | null;
  action: 'report' | 'remediate';
  /**
   * `ignore` (default): steps the tool cannot predict (Ansible tasks check mode
   * skips) are never drift; `report`: they are, as if they would change.
   */
  unknownTasks?: 'ignore' | 'report';
}

export interface DefinitionDefaults {
  approval: ApprovalPolicy;
  applyAfterMs: number | null;
  prune?: boolean;
  guard?: Guard;
  /** Drift checks of units that say nothing (off when absent). */
  drift?: DriftPolicy;
}
