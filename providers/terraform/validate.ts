import { type DaemonConfig, type Problem, sandboxFor, sandboxSettings, type UnitDefinition, type ValidateOptions } from '../../engine/provider-kit.ts';
import { configFileNames } from './config-files.ts';
import { declaredVariables, undeclaredVariables } from './declared-variables.ts';
import { configTree, moduleSource } from './module-tree.ts';
import type { TerraformSettings } from './settings.ts';
import { syntaxProblems } from './syntax-check.ts';

/**
 * A Terraform stack's checks beyond its manifest's schema. Static ones (the
 * daemon runs them on every unit a commit plans): the folder holds Terraform
 * files, every `vars`/`secretVars` entry is a declared variable, and no module
 * of the stack, or of a local module it calls, is taken from outside the
 * repository. With processes allowed (`plumbline validate`), terraform's own
 * parser checks the syntax of every file of that tree.
 */
export async function validateStack(
  unit: UnitDefinition,
  unitDir: string,
  options: ValidateOptions | undefined,
  settings: TerraformSettings,
  config: Pick<DaemonConfig, 'sandbox'>,
): Promise<Problem[]> {
  if ((await configFileNames(unitDir)).length === 0) {
    return [{ file: unit.file, line: 1, column: 1, message: `no Terraform files (*.tf, *.tf.json) in ${unit.path}` }];
  }
  const problems: Problem[] = [];
  const passed = [...Object.keys(unit.vars), ...Object.keys(unit.secretVars)];
  for (const entry of undeclaredVariables(unit, passed, await declaredVariables(unitDir))) {
    problems.push({ file: unit.file, field: entry.field, line: 1, column: 1, message: entry.message });
  }

  // unitDir is `<repository>/<unit.path>` when no options say where the repository is.
  const repoDir = options?.repoDir ?? (unitDir.endsWith(`/${unit.path}`) ? unitDir.slice(0, -(unit.path.length + 1)) : undefined);
  if (repoDir === undefined) return problems;
  const tree = await moduleTreeProblems(repoDir, unit.path);
  problems.push(...tree.problems.map((p) => ({ ...p, message: `${p.message} (${MODULE_OUTSIDE_HINT})` })));
  if (options?.processes) {
    // `fmt` only parses, yet it is a terraform process like the others: it sees the repository alone.
    const sandbox = sandboxFor(sandboxSettings(config), unit.name, { readOnly: [repoDir] });
    problems.push(...(await syntaxProblems({ settings, repoDir, folders: tree.folders, fallbackFile: unit.file, sandbox })));
  }
  return problems;
}

/**
 * The module blocks of the stack and of every local module it calls whose
 * source is outside the repository (each at its file and line), and the
 * folders of that tree.
 */
export async function moduleTreeProblems(repoDir: string, unitPath: string): Promise<{ problems: Problem[]; folders: string[] }> {
  const problems: Problem[] = [];
  const folders = new Set<string>();
  for await (const scanned of configTree(repoDir, unitPath)) {
    folders.add(scanned.dir);
    for (const call of scanned.modules) {
      const source = moduleSource(scanned.dir, call);
      if (source.kind !== 'absolute' && source.kind !== 'outside') continue;
      const what = source.kind === 'absolute' ? 'an absolute path' : 'a path that leaves the repository';
      problems.push({
        file: scanned.file,
        line: call.line,
        column: 1,
        message: `module "${call.name}": source "${call.source}" is ${what}; Plumbline runs only code from the repository`,
      });
    }
  }
  return { problems, folders: [...folders] };
}

/** The hint of a module taken from outside the repository, in `validate` and at plan time. */
export const MODULE_OUTSIDE_HINT = 'move the module into the repository and call it with a relative path that stays inside it, or use a registry or Git source';
