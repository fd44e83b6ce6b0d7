import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isPlumblineError, pathExists, type Problem, type UnitDefinition } from '../../engine/provider-kit.ts';
import type { CdktfSpec } from './manifest.ts';
import { entryOf, inFolder, locateApp } from './app.ts';

/** Problems a person can fix in the repository, reported before any run. */
export async function validateUnit(unit: UnitDefinition, unitDir: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  const manifestLine = async (key: string): Promise<{ line: number; column: number }> => {
    const text = await readFile(join(unitDir, unit.file.slice(unit.path.length + 1)), 'utf8').catch(() => '');
    const index = text.split('\n').findIndex((l) => new RegExp(`^${key}\\s*:`).test(l));
    return index >= 0 ? { line: index + 1, column: 1 } : { line: 1, column: 1 };
  };
  const declared = (unit.spec as Partial<CdktfSpec>).entry ? 'entry' : 'kind';
  // unitDir is `<repository>/<unit.path>`.
  const repoDir = unitDir.endsWith(`/${unit.path}`) ? unitDir.slice(0, -(unit.path.length + 1)) : unitDir;

  try {
    entryOf(unit);
    const app = await locateApp(unit, unitDir, repoDir);
    const hasLockfile = (await pathExists(join(app.appDir, 'package-lock.json'))) || (await pathExists(join(app.appDir, 'npm-shrinkwrap.json')));
    if ((await pathExists(join(app.appDir, 'package.json'))) && !hasLockfile) {
      problems.push({
        file: inFolder(app.appPath, 'package.json'),
        line: 1,
        column: 1,
        message: 'an app with its own package.json needs its package-lock.json committed too (run npm install and commit it)',
      });
    }
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
    problems.push({ file: unit.file, ...(await manifestLine(declared)), message: error.message.replace(`${unit.file}: `, '') });
  }
  return problems;
}
