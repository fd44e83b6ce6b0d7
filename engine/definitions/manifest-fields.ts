import { isAbsolute } from 'node:path';
import type { ApprovalPolicy } from '../model.ts';
import type { ProblemCollector } from '../yaml/problems.ts';

/**
 * Checks of the fields every manifest has that zod's shape check cannot
 * express. They read the raw document, so they run (and report) even when
 * another field of the same file is wrong.
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

/** The variable names a manifest accepts (`ManifestFile.variableNames`). */
export interface VariableNames {
  readonly pattern: RegExp;
  /** In words, for the message: `letters, digits and "_"`. */
  readonly rule: string;
}

export function checkVarNames(raw: unknown, field: string, names: VariableNames, report: ProblemCollector): void {
  if (!isMapping(raw)) return;
  for (const name of Object.keys(raw)) {
    if (!names.pattern.test(name)) report.at([field, name], invalidNameMessage(names));
  }
}

function invalidNameMessage(names: VariableNames): string {
  return `invalid variable name (use ${names.rule}, not starting with a digit)`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `secretVars`: each value comes from exactly one of an env var or an absolute file. */
export function checkSecretVars(raw: RawMapping, names: VariableNames, report: ProblemCollector): void {
  const secrets = raw.secretVars;
  if (!isMapping(secrets)) return;
  const plain = isMapping(raw.vars) ? raw.vars : {};
  for (const [name, source] of Object.entries(secrets)) {
    if (!names.pattern.test(name)) report.at(['secretVars', name], invalidNameMessage(names));
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
