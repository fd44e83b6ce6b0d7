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

export interface InventorySpec {
  kind: 'ansible';
  inventory: string;
  playbook: string;
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
  /** sha256 of the manifest text: part of every plan's inputs. */
  manifestHash: string;
}

export interface DefinitionDefaults {
  approval: ApprovalPolicy;
  applyAfterMs: number | null;
}
