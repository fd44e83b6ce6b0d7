import { type SecretRegistry, secrets as globalSecrets } from '../../engine/provider-kit.ts';
import { isRecord, maskSensitive, maskValues } from './mask.ts';
import type { Change, PlanJson, ResourceChange, ValuePath } from './plan-schema.ts';

/**
 * Sensitive paths beyond the ones Terraform marks. Terraform marks what
 * derives from a `sensitive = true` variable, on the side where it knows it:
 * a secret Plumbline passes to a variable the configuration does not mark, or
 * the old value of a rotated secret in an attribute Terraform did not mark in
 * the state (`terraform_data.output`), would be shown in clear on the before
 * side (`"user=<old>" -> "user=(sensitive)"`). So:
 *
 * 1. every value Terraform marks sensitive in the prior state and on either
 *    side of a change is registered as a secret: what the unit had, so a copy
 *    of it elsewhere is masked by value;
 * 2. every path where either side holds a known secret becomes sensitive on
 *    both sides, and what the before side holds there is registered too.
 *
 * Returns a copy of the plan with the marks extended; run it before masking,
 * normalizing or fingerprinting anything.
 */
export function markKnownSecrets(plan: PlanJson, registry: SecretRegistry = globalSecrets): PlanJson {
  const add = (value: unknown): void => registry.add(value);
  if (plan.prior_state?.values) maskValues(structuredClone(plan.prior_state.values), add);
  const changes = [...(plan.resource_changes ?? []), ...(plan.resource_drift ?? []), ...(plan.deferred_changes ?? []).map((d) => d.resource_change)];
  for (const change of [...changes.map((rc) => rc.change), ...Object.values(plan.output_changes ?? {})]) {
    maskSensitive(change.before, change.before_sensitive, add);
    maskSensitive(change.after, change.after_sensitive, add);
  }

  // The first pass learns old values (what the before side held where the
  // after side holds a secret); the second finds their copies elsewhere.
  return markPass(markPass(plan, registry), registry);
}

function markPass(plan: PlanJson, registry: SecretRegistry): PlanJson {
  const markResource = (rc: ResourceChange): ResourceChange => ({ ...rc, change: markChange(rc.change, registry) });
  return {
    ...plan,
    ...(plan.resource_changes ? { resource_changes: plan.resource_changes.map(markResource) } : {}),
    ...(plan.resource_drift ? { resource_drift: plan.resource_drift.map(markResource) } : {}),
    ...(plan.deferred_changes ? { deferred_changes: plan.deferred_changes.map((d) => ({ ...d, resource_change: markResource(d.resource_change) })) } : {}),
    ...(plan.output_changes
      ? { output_changes: Object.fromEntries(Object.entries(plan.output_changes).map(([name, change]) => [name, markChange(change, registry)])) }
      : {}),
  };
}

/** The change with both sides marked sensitive wherever either side holds a known secret. */
function markChange(change: Change, registry: SecretRegistry): Change {
  // One look at the whole change first: most changes hold no secret at all.
  const text = JSON.stringify([change.before ?? null, change.after ?? null]);
  if (registry.maskText(text) === text) return change;
  const paths = [...pathsHoldingSecrets(change.before, registry), ...pathsHoldingSecrets(change.after, registry)];
  if (paths.length === 0) return change;
  let before = change.before_sensitive;
  let after = change.after_sensitive;
  for (const path of paths) {
    before = markAt(before, change.before, path);
    after = markAt(after, change.after, path);
  }
  maskSensitive(change.before, before, (value) => registry.add(value));
  return { ...change, before_sensitive: before, after_sensitive: after };
}

/** Paths of the string leaves of `value` that contain a known secret. */
function pathsHoldingSecrets(value: unknown, registry: SecretRegistry, path: ValuePath = [], out: ValuePath[] = []): ValuePath[] {
  if (typeof value === 'string') {
    if (registry.maskText(value) !== value) out.push(path);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => pathsHoldingSecrets(item, registry, [...path, i], out));
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) pathsHoldingSecrets(item, registry, [...path, key], out);
  }
  return out;
}

/**
 * `marks` (mirroring `value`, as Terraform's `*_sensitive` do) with `true` at
 * `path`. Where this side holds a plain value above the end of the path (a
 * string where the other side has an object), that value is marked whole;
 * where it holds nothing, nothing is marked (a created resource's before).
 */
export function markAt(marks: unknown, value: unknown, path: ValuePath): unknown {
  if (marks === true || value === null || value === undefined) return marks;
  const [key, ...rest] = path;
  if (key === undefined) return true;
  if (Array.isArray(value) && typeof key === 'number') {
    if (value[key] === null || value[key] === undefined) return marks;
    const list: unknown[] = Array.isArray(marks) ? [...marks] : [];
    while (list.length < value.length) list.push(false);
    list[key] = markAt(list[key], value[key], rest);
    return list;
  }
  if (isRecord(value) && typeof key === 'string') {
    if (value[key] === null || value[key] === undefined) return marks;
    const record: Record<string, unknown> = isRecord(marks) ? { ...marks } : {};
    record[key] = markAt(record[key], value[key], rest);
    return record;
  }
  return true;
}
