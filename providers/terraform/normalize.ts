import { isDeepStrictEqual } from 'node:util';
import type { ChangeSummary } from '../../engine/model.ts';
import { MASK, secrets as globalSecrets, type SecretRegistry } from '../../engine/secrets.ts';
import { hasMark, isRecord, maskSensitive } from './mask.ts';
import type { Change, ChangeAction, PlanJson, ResourceChange, ValuePath } from './plan-schema.ts';

/**
 * The normalized plan: what Plumbline serves, renders and fingerprints. It is
 * built from the raw plan (so changes of sensitive values are still detected)
 * but only ever holds masked values.
 */

/** `none`: the object stays as it is, but the plan moves or imports it. */
export type ResourceAction = 'create' | 'update' | 'delete' | 'replace' | 'forget' | 'none';
export type OutputAction = 'create' | 'update' | 'delete';

export interface AttributeChange {
  /** `tags.Name`, `ingress[0].from_port`, `input["odd key"]`. */
  path: string;
  /** Absent when the attribute is added (or the value is null). */
  before?: unknown;
  /** Absent when the attribute is removed or not known yet. */
  after?: unknown;
  /** The new value is known only after apply. */
  unknown?: true;
  /** Either side is sensitive: values are masked. */
  sensitive?: true;
  /** A change of this attribute is why the object is replaced. */
  forcesReplacement?: true;
}

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
  before?: unknown;
  after?: unknown;
  unknown?: true;
  sensitive?: true;
}

export interface NormalizedPlan {
  resources: ResourceChangeView[];
  outputs: OutputChangeView[];
  summary: ChangeSummary;
  hasChanges: boolean;
  destructive: boolean;
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
    diffValue([], before, after, { unknown, before: c.before_sensitive, after: c.after_sensitive }, attributes);
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
  const sensitive = hasMark(change.before_sensitive) || hasMark(change.after_sensitive);
  const unknown = hasMark(change.after_unknown);
  const view: OutputChangeView = { name, action };
  if (action !== 'create' && !isEmpty(change.before)) view.before = sensitive ? MASK : change.before;
  if (action !== 'delete') {
    if (change.after_unknown === true) view.unknown = true;
    else if (!isEmpty(change.after)) {
      view.after = sensitive ? MASK : replaceUnknown(change.after, change.after_unknown);
      if (unknown) view.unknown = true;
    }
  }
  if (sensitive) view.sensitive = true;
  return view;
}

interface Marks {
  unknown: unknown;
  before: unknown;
  after: unknown;
}

/** Leaf-level diff of two attribute values, following Terraform's unknown/sensitive marks. */
function diffValue(path: ValuePath, before: unknown, after: unknown, marks: Marks, out: AttributeChange[]): void {
  if (marks.unknown === true) {
    const change: AttributeChange = { path: formatPath(path) };
    if (!isEmpty(before)) change.before = maskSensitive(before, marks.before);
    change.unknown = true;
    if (hasMark(marks.before) || hasMark(marks.after)) change.sensitive = true;
    out.push(change);
    return;
  }
  if (marks.before === true || marks.after === true) {
    if (isEmpty(before) && isEmpty(after)) return;
    if (isDeepStrictEqual(before, after) && marks.before === marks.after) return;
    const change: AttributeChange = { path: formatPath(path) };
    if (!isEmpty(before)) change.before = MASK;
    if (!isEmpty(after)) change.after = MASK;
    change.sensitive = true;
    out.push(change);
    return;
  }
  const kind = containerKind(before, after, marks);
  if (kind !== undefined) {
    for (const key of childKeys(kind, before, after, marks.unknown)) {
      diffValue(
        [...path, key],
        child(before, key),
        child(after, key),
        { unknown: child(marks.unknown, key), before: child(marks.before, key), after: child(marks.after, key) },
        out,
      );
    }
    return;
  }
  if (isEmpty(before) && isEmpty(after)) return;
  if (isDeepStrictEqual(before, after)) return;
  const change: AttributeChange = { path: formatPath(path) };
  if (!isEmpty(before)) change.before = before;
  if (!isEmpty(after)) change.after = after;
  out.push(change);
}

/**
 * Whether to descend: objects always (attribute by attribute); lists only when
 * they hold objects or carry per-element marks. A list of plain values is one
 * leaf, shown whole (`["a","b"] -> ["a","c"]`), as people read it.
 */
function containerKind(before: unknown, after: unknown, marks: Marks): 'object' | 'array' | undefined {
  const sides = [before, after].filter((v) => v !== undefined && v !== null);
  if (sides.length === 0) return isRecord(marks.unknown) ? 'object' : undefined;
  if (sides.every(isRecord)) return 'object';
  if (sides.every(Array.isArray)) {
    const plain = (sides as unknown[][]).every((list) => list.every((item) => !isRecord(item) && !Array.isArray(item)));
    const marked = hasMark(marks.unknown) || hasMark(marks.before) || hasMark(marks.after);
    return plain && !marked ? undefined : 'array';
  }
  return undefined;
}

function childKeys(kind: 'object' | 'array', before: unknown, after: unknown, unknown: unknown): Array<string | number> {
  if (kind === 'array') {
    const length = Math.max(...[before, after, unknown].map((v) => (Array.isArray(v) ? v.length : 0)));
    return Array.from({ length }, (_, i) => i);
  }
  const keys = new Set<string>();
  for (const v of [before, after, unknown]) if (isRecord(v)) for (const k of Object.keys(v)) keys.add(k);
  return [...keys].sort();
}

function child(value: unknown, key: string | number): unknown {
  if (typeof key === 'number') return Array.isArray(value) ? value[key] : undefined;
  return isRecord(value) ? value[key] : undefined;
}

/** Null, absent, `[]` and `{}` all read as "nothing" when deciding what to show. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.keys(value).length === 0;
  return false;
}

export const UNKNOWN_TEXT = '(known after apply)';

function replaceUnknown(value: unknown, marks: unknown): unknown {
  if (marks === true) return UNKNOWN_TEXT;
  if (Array.isArray(value) && Array.isArray(marks)) return value.map((v, i) => replaceUnknown(v, marks[i]));
  if (isRecord(value) && isRecord(marks)) {
    const out: Record<string, unknown> = { ...value };
    for (const [k, m] of Object.entries(marks)) out[k] = replaceUnknown(value[k], m);
    return out;
  }
  return value;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `["ingress", 0, "cidr_blocks"]` → `ingress[0].cidr_blocks`. */
export function formatPath(path: ValuePath): string {
  let text = '';
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`;
    else if (IDENTIFIER.test(step)) text += text === '' ? step : `.${step}`;
    else text += `[${JSON.stringify(step)}]`;
  }
  return text;
}
