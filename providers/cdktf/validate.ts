import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackSpec, UnitDefinition } from '../../engine/definitions/types.ts';
import { isPlumblineError, type Problem } from '../../engine/errors.ts';
import { entryOf } from './synth.ts';
import { pathExists } from '../../engine/fs.ts';

/** Problems a person can fix in the repository, reported before any run. */
export async function validateUnit(unit: UnitDefinition, unitDir: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  const manifestLine = async (key: string): Promise<{ line: number; column: number }> => {
    const text = await readFile(join(unitDir, unit.file.slice(unit.path.length + 1)), 'utf8').catch(() => '');
    const index = text.split('\n').findIndex((l) => new RegExp(`^${key}\\s*:`).test(l));
    return index >= 0 ? { line: index + 1, column: 1 } : { line: 1, column: 1 };
  };

  let entry: string | null = null;
  try {
    entry = entryOf(unit);
  } catch (error) {
    problems.push({ file: unit.file, ...(await manifestLine('entry')), message: isPlumblineError(error) ? error.message.replace(`${unit.file}: `, '') : String(error) });
  }
  if (entry !== null && !(await pathExists(join(unitDir, entry)))) {
    const declared = (unit.spec as Partial<StackSpec>).entry ? 'entry' : 'kind';
    problems.push({ file: unit.file, ...(await manifestLine(declared)), message: `entry ${unit.path}/${entry} does not exist` });
  }
  if ((await pathExists(join(unitDir, 'package.json'))) && !(await pathExists(join(unitDir, 'package-lock.json'))) && !(await pathExists(join(unitDir, 'npm-shrinkwrap.json')))) {
    problems.push({
      file: `${unit.path}/package.json`,
      line: 1,
      column: 1,
      message: 'a stack with its own package.json needs its package-lock.json committed too (run npm install and commit it)',
    });
  }
  return problems;
}

