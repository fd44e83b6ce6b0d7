import { readdir } from 'node:fs/promises';
import type { ProblemCollector } from '../yaml/problems.ts';
import {
  checkSecretVars,
  checkVarNames,
  type RawMapping,
  schedulingOf,
  type SchedulingFields,
  TERRAFORM_VAR_NAME,
} from './manifest-fields.ts';
import { stackManifestSchema } from './schema.ts';
import type { StackSpec } from './types.ts';
import { resolveInUnit, type UnitFolder } from './unit-paths.ts';

const ENTRY_EXTENSIONS = ['.ts', '.mts', '.tsx', '.js', '.mjs'];

/**
 * Validates a `stack.yaml` document against its folder. Returns the spec only
 * when this file has no problem at all; every problem goes to `report`.
 */
export async function readStack(
  raw: RawMapping,
  unit: UnitFolder,
  report: ProblemCollector,
): Promise<{ spec: StackSpec; scheduling: SchedulingFields } | null> {
  const before = report.count;
  const parsed = stackManifestSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) report.zodIssues(parsed.error.issues, stackManifestSchema);

  const entry = raw.kind === 'cdktf' ? await checkCdktfEntry(raw, unit, report) : null;
  if (raw.kind === 'terraform') await checkTerraformFields(raw, unit, report);
  checkVarNames(raw.vars, 'vars', TERRAFORM_VAR_NAME, report);
  checkSecretVars(raw, report);

  if (!parsed.success || report.count > before) return null;
  const m = parsed.data;
  return {
    spec: {
      kind: m.kind,
      entry,
      stackName: m.stackName ?? null,
      vars: m.vars ?? {},
      secretVars: Object.fromEntries(
        Object.entries(m.secretVars ?? {}).map(([name, s]) => [name, s.env !== undefined ? { env: s.env } : { file: s.file }]),
      ),
    },
    scheduling: schedulingOf(m),
  };
}

/** Returns the repository-relative entry when it is valid. */
async function checkCdktfEntry(raw: RawMapping, unit: UnitFolder, report: ProblemCollector): Promise<string | null> {
  const entry = raw.entry;
  if (entry === undefined) {
    report.at(
      ['entry'],
      `required when kind is cdktf: the app's entry file (${ENTRY_EXTENSIONS.join(', ')}), relative to the stack folder`,
      ['kind'],
    );
    return null;
  }
  if (typeof entry !== 'string' || entry === '') return null;
  if (!ENTRY_EXTENSIONS.some((ext) => entry.endsWith(ext))) {
    report.at(['entry'], `must be a ${ENTRY_EXTENSIONS.join(', ')} file (got ${JSON.stringify(entry)})`);
    return null;
  }
  const resolved = await resolveInUnit(unit, entry, { mustExist: true });
  if (!resolved.ok) {
    report.at(['entry'], resolved.message);
    return null;
  }
  if (!resolved.isFile) {
    report.at(['entry'], `${JSON.stringify(entry)} is not a file`);
    return null;
  }
  return resolved.path;
}

async function checkTerraformFields(raw: RawMapping, unit: UnitFolder, report: ProblemCollector): Promise<void> {
  if (raw.entry !== undefined) {
    report.at(['entry'], 'only cdktf stacks have an entry; a terraform stack is the .tf files of its folder');
  }
  if (raw.stackName !== undefined) report.at(['stackName'], 'only cdktf stacks have a stackName');
  const files = await readdir(unit.dir, { withFileTypes: true }).catch(() => []);
  const hasConfiguration = files.some(
    (f) => (f.isFile() || f.isSymbolicLink()) && (f.name.endsWith('.tf') || f.name.endsWith('.tf.json')),
  );
  if (!hasConfiguration) {
    report.at(['kind'], `a terraform stack needs at least one *.tf or *.tf.json file in ${unit.path} (found none)`);
  }
}
