import { z } from 'zod';
import { DURATION_EXAMPLES, parseDuration } from '../duration.ts';
import { APPROVAL_POLICIES, type ApprovalPolicy } from '../model.ts';
import { describeValue } from '../yaml/problems.ts';

/**
 * The shape of `stack.yaml` and `inventory.yaml`: field names, types and
 * enums. Rules that involve several fields or the unit's folder (cdktf needs
 * an entry, the playbook must exist) are checked in stack.ts / inventory.ts,
 * on the raw value, so they are reported even when another field is wrong.
 */

export const approvalSchema = z.enum(APPROVAL_POLICIES as [ApprovalPolicy, ...ApprovalPolicy[]]);

/** A duration string; `0s` means "none" and becomes null. */
export const durationSchema = z.unknown().transform((value, ctx): number | null => {
  if (typeof value !== 'string') {
    ctx.issues.push({ code: 'custom', input: value, message: `must be a duration such as ${DURATION_EXAMPLES} (got ${describeValue(value)})` });
    return z.NEVER;
  }
  try {
    const ms = parseDuration(value);
    return ms === 0 ? null : ms;
  } catch (error) {
    ctx.issues.push({ code: 'custom', input: value, message: (error as Error).message });
    return z.NEVER;
  }
});

/** A drift interval: a duration, or `off` (also `0s`) for no scheduled checks. */
export const driftIntervalSchema = z.unknown().transform((value, ctx): number | null => {
  if (value === 'off' || value === false) return null;
  if (typeof value !== 'string') {
    ctx.issues.push({ code: 'custom', input: value, message: `must be a duration such as ${DURATION_EXAMPLES}, or off (got ${describeValue(value)})` });
    return z.NEVER;
  }
  try {
    const ms = parseDuration(value);
    return ms === 0 ? null : ms;
  } catch (error) {
    ctx.issues.push({ code: 'custom', input: value, message: `${(error as Error).message}, or off` });
    return z.NEVER;
  }
});

export const DRIFT_ACTIONS = ['report', 'remediate'] as const;
/** What a drift check makes of steps the tool cannot predict (Ansible tasks check mode skips). */
export const UNKNOWN_TASKS = ['ignore', 'report'] as const;

/** `drift: {interval: 15m, action: report}`; either field may be left to the daemon's default. */
export const driftSchema = z
  .strictObject({
    interval: driftIntervalSchema.optional(),
    action: z.enum(DRIFT_ACTIONS).optional(),
    unknownTasks: z.enum(UNKNOWN_TASKS).optional(),
  })
  .nullish();

/** Plain variables: any YAML value; a missing or empty `vars:` means none. */
export const varsSchema = z.record(z.string(), z.unknown()).nullish();

export const dependsOnSchema = z.array(z.string().min(1)).nullish();

/** An explicit unit name, instead of the folder's path below stacks/ or inventories/. */
export const unitNameSchema = z.string().min(1).optional();

/** Extra globs that plan the unit when a commit touches them. */
export const watchSchema = z.array(z.string().min(1)).nullish();

/** When the unit's folder disappears: plan the destroy of what it manages (true), or keep it Orphaned (false). */
export const pruneSchema = z.boolean().optional();

/** Blast radius: above these, a plan waits for a person whatever the approval policy. */
export const guardSchema = z
  .strictObject({
    maxDestroy: z.int().min(0).optional(),
    maxHosts: z.int().min(0).optional(),
  })
  .nullish();

/** Where a secret comes from on the control host; exactly one is checked later. */
export const secretSourceSchema = z.strictObject({
  env: z.string().min(1).optional(),
  file: z.string().min(1).optional(),
});

const text = z.string().min(1);

export const stackManifestSchema = z.strictObject({
  name: unitNameSchema,
  kind: z.enum(['terraform', 'cdktf']),
  entry: text.optional(),
  stackName: text.optional(),
  vars: varsSchema,
  secretVars: z.record(z.string(), secretSourceSchema).nullish(),
  approval: approvalSchema.optional(),
  applyAfter: durationSchema.optional(),
  dependsOn: dependsOnSchema,
  drift: driftSchema,
  watch: watchSchema,
  prune: pruneSchema,
  guard: guardSchema,
});

export const sshSchema = z.strictObject({
  user: text.optional(),
  privateKeyFile: text.optional(),
  knownHostsFile: text.optional(),
  port: z.int().min(1).max(65535).optional(),
});

/**
 * `hostsFrom: {fromOutput: machines.hosts}`: the inventory's hosts come (also)
 * from an upstream unit's output. Only the shape is checked here; the reference
 * text and its unit (must be in dependsOn) are checked by the loader, the
 * output's value by the Ansible provider at plan time.
 */
export const hostsFromSchema = z.unknown().transform((value, ctx): { fromOutput: string } => {
  if (isReferenceMapping(value)) return { fromOutput: value.fromOutput };
  const others = typeof value === 'object' && value !== null && !Array.isArray(value) && 'fromOutput' in value ? Object.keys(value).filter((k) => k !== 'fromOutput') : [];
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
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const text = (value as { fromOutput?: unknown }).fromOutput;
  return keys.length === 1 && keys[0] === 'fromOutput' && typeof text === 'string' && text !== '';
}

export const inventoryManifestSchema = z.strictObject({
  name: unitNameSchema,
  /** Optional: an inventory is always Ansible, but writing it down is harmless. */
  kind: z.enum(['ansible']).optional(),
  inventory: text.optional(),
  hostsFrom: hostsFromSchema.optional(),
  playbook: text,
  approval: approvalSchema.optional(),
  applyAfter: durationSchema.optional(),
  dependsOn: dependsOnSchema,
  ssh: sshSchema.nullish(),
  forks: z.int().min(1).optional(),
  allowUnreachable: z.boolean().optional(),
  vars: varsSchema,
  drift: driftSchema,
  watch: watchSchema,
  prune: pruneSchema,
  guard: guardSchema,
});

export type StackManifest = z.output<typeof stackManifestSchema>;
export type InventoryManifest = z.output<typeof inventoryManifestSchema>;
