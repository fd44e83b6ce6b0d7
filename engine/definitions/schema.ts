import { z } from 'zod';
import { DURATION_EXAMPLES, parseDuration } from '../duration.ts';
import { APPROVAL_POLICIES, type ApprovalPolicy } from '../model.ts';
import { describeValue } from '../yaml/problems.ts';

/**
 * The shapes of the fields every manifest has (name, vars, approval, drift...):
 * field names, types and enums. Each provider declares its own fields
 * (`ManifestPart.fields`); manifests.ts joins both into a manifest's schema.
 * Rules that involve several fields or the unit's folder are checked on the
 * raw value, so they are reported even when another field is wrong.
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

/** Secret variables by name: `{env: NAME}` or `{file: /abs/path}` on the control host. */
export const secretVarsSchema = z.record(z.string(), secretSourceSchema).nullish();
