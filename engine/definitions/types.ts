import type { ApprovalPolicy } from '../model.ts';

/**
 * A unit is one thing Plumbline reconciles: a folder with a manifest that a
 * provider reads (`stacks/<name>/stack.yaml`, `inventories/<name>/inventory.yaml`).
 * Names are unique across every manifest, so `dependsOn` can point at any unit.
 */

/** Where a secret variable's value comes from on the control host; never Git. */
export interface SecretSource {
  env?: string;
  file?: string;
}

export interface UnitDefinition {
  name: string;
  /** The manifest's unit type (`stack`, `inventory`: `ManifestFile.type`). */
  type: string;
  /** Which provider handles it (`terraform`, `cdktf`, `ansible`). */
  kind: string;
  /** Repository-relative folder, forward slashes, no trailing slash (`stacks/web`). */
  path: string;
  /** Repository-relative manifest file (`stacks/web/stack.yaml`). */
  file: string;
  approval: ApprovalPolicy;
  /** Review window before an automatic apply, or null to apply at once. */
  applyAfterMs: number | null;
  dependsOn: string[];
  /** Plain variables from Git; a value may be `{fromOutput: <unit>.<output>}`. */
  vars: Record<string, unknown>;
  /** Sensitive variables read on the control host at run time (manifests whose `ManifestFile.secretVars` allows them). */
  secretVars: Record<string, SecretSource>;
  /** The provider's own fields, as its `ManifestPart.read` returned them: the engine never looks inside. */
  spec: unknown;
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
