import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closest, formatPath, parseYamlDocument, PlumblineError, type UnitDefinition } from '../../engine/provider-kit.ts';
import { configFileNames, field, objects, parseJsonConfig } from './config-files.ts';
import { findVariables } from './hcl-scan.ts';
import { readText } from './module-tree.ts';

/**
 * A `vars` or `secretVars` entry the configuration does not declare is an
 * error, not Terraform's warning: a typo (`enviroment` for `environment`)
 * would otherwise leave the variable at its default and plan something else
 * than what the manifest says, a replacement as likely as not.
 */

/** The input variables the configuration files of `dir` declare (`.tf` and `.tf.json`), sorted. */
export async function declaredVariables(dir: string): Promise<string[]> {
  const names = new Set<string>();
  for (const name of await configFileNames(dir)) {
    const text = await readText(join(dir, name));
    if (text === undefined) continue;
    if (name.endsWith('.tf.json')) {
      for (const block of objects(field(parseJsonConfig(text), 'variable'))) {
        for (const key of Object.keys(block)) if (key !== '//') names.add(key);
      }
    } else {
      for (const variable of findVariables(text)) names.add(variable.name);
    }
  }
  return [...names].sort();
}

/** One manifest entry the configuration does not declare. */
export interface UndeclaredVariable {
  /** `['vars', 'enviroment']` or `['secretVars', 'db_pasword']`. */
  field: readonly [string, string];
  message: string;
}

/** The entries of `names` (variables the run passes) that `declared` lacks, each with the field of the manifest that sets it. */
export function undeclaredVariables(unit: UnitDefinition, names: Iterable<string>, declared: readonly string[]): UndeclaredVariable[] {
  const known = new Set(declared);
  const secret = unit.secretVars;
  const found: UndeclaredVariable[] = [];
  for (const name of names) {
    if (known.has(name)) continue;
    const guess = closest(name, declared);
    const list = declared.length > 0 ? `declared: ${declared.join(', ')}` : 'it declares no variables';
    found.push({
      field: [name in secret ? 'secretVars' : 'vars', name],
      message: `the configuration declares no variable "${name}" (${guess ? `did you mean "${guess}"? ` : ''}${list})`,
    });
  }
  return found;
}

/**
 * The error a plan stops with (CDKTF's variables are known only once the app
 * is synthesized; a Terraform stack is checked again in case nothing
 * validated it): each entry named `file:line:column: field: message`, as
 * `plumbline validate` prints it.
 */
export async function undeclaredVariableError(unit: UnitDefinition, found: readonly UndeclaredVariable[], repoDir: string): Promise<PlumblineError> {
  const manifest = await readFile(join(repoDir, unit.file), 'utf8').catch(() => '');
  const { locate } = parseYamlDocument(manifest, unit.file);
  const lines = found.map((entry) => {
    const { line, column } = locate(entry.field);
    return `${unit.file}:${line}:${column}: ${formatPath(entry.field)}: ${entry.message}`;
  });
  const first = found[0]?.field[1] ?? '';
  const declareIt = unit.kind === 'cdktf' ? `declare it in the app (new TerraformVariable(stack, '${first}', {...}))` : `declare variable "${first}" in ${unit.path}`;
  return new PlumblineError('E_UNDECLARED_VARIABLE', lines.join('; '), {
    retry: 'stalled',
    hint: `rename ${found.map((entry) => formatPath(entry.field)).join(', ')} in ${unit.file} to a variable the stack declares, or ${declareIt}`,
    details: { file: unit.file, fields: found.map((entry) => formatPath(entry.field)) },
  });
}
