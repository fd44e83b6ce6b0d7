import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Problem } from '../errors.ts';
import type { Provider } from '../provider.ts';
import { parseYamlDocument } from '../yaml/parse.ts';
import { formatPath } from '../yaml/problems.ts';
import type { UnitDefinition } from './types.ts';

/**
 * A provider's own checks of a unit (`Provider.validate`), each problem tied
 * to its unit and, when it is about a manifest field, placed at that field's
 * line with the field's path in front of the message, as the loader places its
 * own.
 */
export async function providerProblems(
  unit: UnitDefinition,
  repoDir: string,
  provider: Provider | undefined,
  options: { processes: boolean },
): Promise<Problem[]> {
  if (!provider?.validate) return [];
  const problems = await provider.validate(unit, join(repoDir, unit.path), { repoDir, processes: options.processes });
  if (problems.length === 0) return [];
  const located = problems.some((p) => p.field && p.file === unit.file) ? await locatorOf(repoDir, unit.file) : undefined;
  return problems.map((p) => {
    if (!p.field || p.file !== unit.file || !located) return { ...p, unit: unit.name };
    const name = formatPath(p.field);
    return { ...p, ...located(p.field), message: name ? `${name}: ${p.message}` : p.message, unit: unit.name };
  });
}

async function locatorOf(repoDir: string, file: string) {
  const text = await readFile(join(repoDir, file), 'utf8').catch(() => '');
  return parseYamlDocument(text, file).locate;
}
