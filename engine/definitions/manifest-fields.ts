import { isAbsolute } from 'node:path';
import type { ApprovalPolicy } from '../model.ts';
import type { ProblemCollector } from '../yaml/problems.ts';

/**
 * Checks shared by stack and inventory manifests that zod's shape check
 * cannot express. They read the raw document, so they run (and report) even
 * when another field of the same file is wrong.
 */

/** What a manifest says about scheduling; missing fields take the defaults later. */
export interface SchedulingFields {
  approval: ApprovalPolicy | undefined;
  /** undefined: not set; null: `0s`, no review window. */
  applyAfterMs: number | null | undefined;
  dependsOn: string[];
  /** As written; unset parts take the daemon's defaults. */
  drift: { intervalMs?: number | null; action?: 'report' | 'remediate'; unknownTasks?: 'ignore' | 'report' } | undefined;
  prune: boolean | undefined;
  guard: { maxDestroy?: number | undefined; maxHosts?: number | undefined } | undefined;
}

export type RawMapping = Record<string, unknown>;

export function isMapping(value: unknown): value is RawMapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Terraform variable names: letters, digits, `_` and `-`, not starting with a digit. */
export const TERRAFORM_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Ansible variable names: letters, digits and `_`, not starting with a digit. */
export const ANSIBLE_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkVarNames(raw: unknown, field: string, pattern: RegExp, report: ProblemCollector): void {
  if (!isMapping(raw)) return;
  const allowed = pattern === ANSIBLE_VAR_NAME ? 'letters, digits and "_"' : 'letters, digits, "_" and "-"';
  for (const name of Object.keys(raw)) {
    if (!pattern.test(name)) report.at([field, name], `invalid variable name (use ${allowed}, not starting with a digit)`);
  }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `secretVars`: each value comes from exactly one of an env var or an absolute file. */
export function checkSecretVars(raw: RawMapping, report: ProblemCollector): void {
  const secrets = raw.secretVars;
  if (!isMapping(secrets)) return;
  const plain = isMapping(raw.vars) ? raw.vars : {};
  for (const [name, source] of Object.entries(secrets)) {
    if (!TERRAFORM_VAR_NAME.test(name)) {
      report.at(['secretVars', name], 'invalid variable name (use letters, digits, "_" and "-", not starting with a digit)');
    }
    if (Object.hasOwn(plain, name)) {
      report.at(['secretVars', name], `also set in vars; a variable is either plain or secret`);
    }
    if (!isMapping(source)) continue;
    const hasEnv = source.env !== undefined;
    const hasFile = source.file !== undefined;
    if (hasEnv === hasFile) {
      report.at(['secretVars', name], `set exactly one of env or file (got ${hasEnv ? 'both' : 'neither'})`);
    }
    if (typeof source.env === 'string' && source.env && !ENV_NAME.test(source.env)) {
      report.at(['secretVars', name, 'env'], `invalid environment variable name ${JSON.stringify(source.env)}`);
    }
    if (typeof source.file === 'string' && source.file && !isAbsolute(source.file)) {
      report.at(
        ['secretVars', name, 'file'],
        `must be an absolute path on the control host (got ${JSON.stringify(source.file)}); secret values never come from Git`,
      );
    }
  }
}

/** The scheduling fields of a manifest zod already accepted. */
export function schedulingOf(parsed: {
  approval?: ApprovalPolicy | undefined;
  applyAfter?: number | null | undefined;
  dependsOn?: string[] | null | undefined;
  drift?: { interval?: number | null | undefined; action?: 'report' | 'remediate' | undefined; unknownTasks?: 'ignore' | 'report' | undefined } | null | undefined;
  prune?: boolean | undefined;
  guard?: { maxDestroy?: number | undefined; maxHosts?: number | undefined } | null | undefined;
}): SchedulingFields {
  const drift = parsed.drift
    ? {
        ...(parsed.drift.interval !== undefined ? { intervalMs: parsed.drift.interval } : {}),
        ...(parsed.drift.action ? { action: parsed.drift.action } : {}),
        ...(parsed.drift.unknownTasks ? { unknownTasks: parsed.drift.unknownTasks } : {}),
      }
    : undefined;
  return { approval: parsed.approval, applyAfterMs: parsed.applyAfter, dependsOn: parsed.dependsOn ?? [], drift, prune: parsed.prune, guard: parsed.guard ?? undefined };
}
