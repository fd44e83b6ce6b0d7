import { resolve } from 'node:path';
import { z } from 'zod';
import { describeValue, type ProblemCollector } from '../yaml/problems.ts';
import { DEFAULT_SANDBOX_SETTINGS, SANDBOX_MODES, type SandboxMode, type SandboxSettings } from './types.ts';

/**
 * The `sandbox:` section of plumbline.yaml: a mode alone (`sandbox: off`), or
 * the mode with the operator's grants:
 *
 *   sandbox:
 *     mode: auto
 *     grants:
 *       - units: [machines]
 *         writable: [/srv/machines]
 *         outlive: true
 *
 * Grants live here and nowhere else: a commit cannot widen its own sandbox.
 */

const text = z.string().min(1);

const grantSchema = z.strictObject({
  units: z.array(text).min(1),
  readable: z.array(text).nullish(),
  writable: z.array(text).nullish(),
  outlive: z.boolean().optional(),
  capabilities: z.array(z.string().regex(/^CAP_[A-Z_]+$/, 'a capability name such as CAP_SETUID')).nullish(),
});

const mappingSchema = z.strictObject({
  mode: z.enum(SANDBOX_MODES).optional(),
  grants: z.array(grantSchema).nullish(),
});

/** For the config's schema: the section is checked by `readSandboxSection`, which words its problems itself. */
export const sandboxSectionSchema = z.unknown().optional();

/**
 * The section as written (`undefined` when absent), checked, relative paths
 * made absolute against `base`; undefined when a problem was reported.
 */
export function readSandboxSection(value: unknown, base: string, report: ProblemCollector): SandboxSettings | undefined {
  if (value === undefined || value === null) return DEFAULT_SANDBOX_SETTINGS;
  if (typeof value === 'string' || typeof value === 'boolean') {
    if ((SANDBOX_MODES as readonly unknown[]).includes(value)) return { mode: value as SandboxMode, grants: [] };
    report.at(['sandbox'], `must be one of ${SANDBOX_MODES.join(', ')}, or a mapping with mode and grants (got ${describeValue(value)})`);
    return undefined;
  }
  const parsed = mappingSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ ...issue, path: ['sandbox', ...issue.path] }));
    report.zodIssues(issues, z.object({ sandbox: mappingSchema }));
    return undefined;
  }
  const grants = (parsed.data.grants ?? []).map((g) => ({
    units: g.units,
    readable: (g.readable ?? []).map((p) => resolve(base, p)),
    writable: (g.writable ?? []).map((p) => resolve(base, p)),
    outlive: g.outlive ?? false,
    capabilities: g.capabilities ?? [],
  }));
  let ok = true;
  (parsed.data.grants ?? []).forEach((g, i) => {
    for (const field of ['readable', 'writable'] as const) {
      (g[field] ?? []).forEach((path, j) => {
        // A grant of `/` would undo the sandbox: the grant names the folders a unit needs.
        if (resolve(base, path) === '/') {
          report.at(['sandbox', 'grants', i, field, j], 'grants the whole file system; name the folders the units need');
          ok = false;
        }
      });
    }
  });
  return ok ? { mode: parsed.data.mode ?? DEFAULT_SANDBOX_SETTINGS.mode, grants } : undefined;
}
