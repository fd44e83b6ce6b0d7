import { type ChangeSummary, type SecretRegistry, secrets as globalSecrets } from '../../engine/provider-kit.ts';
import { hasMark } from './mask.ts';
import type { Change, ChangeAction, PlanJson, ResourceChange, ValuePath } from './plan-schema.ts';
import { childPath, diffValues, type AttributeChange } from './value-diff.ts';

export type { AttributeChange } from './value-diff.ts';

/**
 * The normalized plan: what Plumbline serves, renders and fingerprints. It is
 * built from the raw plan (so changes of sensitive values are still detected)
 * but only ever holds masked values.
 */

/** `none`: the object stays as it is, but the plan moves or imports it. */
export type ResourceAction = 'create' | 'update' | 'delete' | 'replace' | 'forget' | 'none';
export type OutputAction = 'create' | 'update' | 'delete';

export interface ResourceChangeView {
  address: string;
  previousAddress?: string;
  module?: string;
  mode: 'managed' | 'data';
  type: string;
  name: string;
  index?: string | number;
  deposed?: string;
  provider: string;
  action: ResourceAction;
  /** Terraform's own actions, in order (`["create","delete"]`: create before destroy). */
  actions: ChangeAction[];
  reason?: string;
  importing?: true;
  attributes: AttributeChange[];
}

export interface OutputChangeView {
  name: string;
  action: OutputAction;
  /** Some of the new value is known only after apply. */
  unknown?: true;
  sensitive?: true;
  /** What changes, at paths that start with the output's name (`subnet_ids[1]`). */
  attributes: AttributeChange[];
}

export interface NormalizedPlan {
  resources: ResourceChangeView[];
  outputs: OutputChangeView[];
  summary: ChangeSummary;
  hasChanges: boolean;
  destructive: boolean;
  /** Terraform's warnings (init and plan), masked, paths repository-relative. Not part of the fingerprint. */
  warnings?: string[];
}

/** What Terraform's action list means for the object. */
export function resourceAction(actions: readonly ChangeAction[]): ResourceAction | 'read' {
  const key = actions.join(',');
  switch (key) {
    case 'create':
    case 'update':
    case 'delete':
    case 'forget':
      return key;
    case 'delete,create':
    case 'create,delete':
      return 'replace';
    case 'read':
      return 'read';
    case 'no-op':
      return 'none';
    default:
      // A combination newer than this code: never under-report it.
      return actions.includes('delete') ? 'replace' : 'update';
  }
}

export function normalizePlan(plan: PlanJson, registry: SecretRegistry = globalSecrets): NormalizedPlan {
  const resources: ResourceChangeView[] = [];
  for (const change of plan.resource_changes ?? []) {
    const view = normalizeResource(change);
    if (view) resources.push(view);
  }
  const outputs: OutputChangeView[] = [];
  for (const name of Object.keys(plan.output_changes ?? {}).sort()) {
    const view = normalizeOutput(name, plan.output_changes![name]!);
    if (view) outputs.push(view);
  }
  const summary: ChangeSummary = { add: 0, change: 0, destroy: 0, replace: 0 };
  for (const r of resources) {
    if (r.action === 'create') summary.add++;
    else if (r.action === 'update') summary.change++;
    else if (r.action === 'delete') summary.destroy++;
    else if (r.action === 'replace') summary.replace++;
  }
  const document: NormalizedPlan = {
    resources,
    outputs,
    summary,
    hasChanges: resources.length > 0 || outputs.length > 0,
    destructive: summary.destroy > 0 || summary.replace > 0,
  };
  // Catch-all: copies of secrets Terraform did not mark (derived attributes).
  return registry.maskDeep(document);
}

function normalizeResource(rc: ResourceChange): ResourceChangeView | undefined {
  const action = resourceAction(rc.change.actions);
  if (action === 'read') return undefined;
  const moved = rc.previous_address !== undefined && rc.previous_address !== rc.address;
  const importing = rc.change.importing !== undefined && rc.change.importing !== null;
  if (action === 'none' && !moved && !importing) return undefined;

  const c = rc.change;
  const attributes: AttributeChange[] = [];
  if (action === 'create' || action === 'update' || action === 'replace' || action === 'delete') {
    const before = action === 'create' ? undefined : c.before;
    const after = action === 'delete' ? undefined : c.after;
    const unknown = action === 'delete' ? undefined : c.after_unknown;
    diffValues('', before, after, { unknown, before: c.before_sensitive, after: c.after_sensitive }, attributes);
  }
  if (action === 'replace' && c.replace_paths) {
    const forcing = c.replace_paths.map(formatPath);
    for (const a of attributes) {
      if (forcing.some((p) => a.path === p || a.path.startsWith(`${p}.`) || a.path.startsWith(`${p}[`))) a.forcesReplacement = true;
    }
  }

  return {
    address: rc.address,
    ...(moved ? { previousAddress: rc.previous_address } : {}),
    ...(rc.module_address ? { module: rc.module_address } : {}),
    mode: rc.mode,
    type: rc.type,
    name: rc.name,
    ...(rc.index !== undefined ? { index: rc.index } : {}),
    ...(rc.deposed ? { deposed: rc.deposed } : {}),
    provider: rc.provider_name,
    action,
    actions: [...c.actions],
    ...(rc.action_reason ? { reason: rc.action_reason } : {}),
    ...(importing ? { importing: true as const } : {}),
    attributes,
  };
}

function normalizeOutput(name: string, change: Change): OutputChangeView | undefined {
  const action = resourceAction(change.actions);
  if (action !== 'create' && action !== 'update' && action !== 'delete') return undefined;
  const attributes: AttributeChange[] = [];
  const before = action === 'create' ? undefined : change.before;
  const after = action === 'delete' ? undefined : change.after;
  const unknown = action === 'delete' ? undefined : change.after_unknown;
  diffValues(name, before, after, { before: change.before_sensitive, after: change.after_sensitive, unknown }, attributes);
  return {
    name,
    action,
    ...(hasMark(unknown) ? { unknown: true as const } : {}),
    ...(hasMark(change.before_sensitive) || hasMark(change.after_sensitive) ? { sensitive: true as const } : {}),
    attributes,
  };
}

/** `["ingress", 0, "cidr_blocks"]` → `ingress[0].cidr_blocks`. */
export function formatPath(path: ValuePath): string {
  return path.reduce<string>((text, step) => childPath(text, step), '');
}
