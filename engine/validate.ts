import { resolve } from 'node:path';
import { normalizeConfig } from './config/load.ts';
import { loadDefinitions } from './definitions/load.ts';
import { providerProblems } from './definitions/provider-checks.ts';
import { readsOf } from './definitions/reads.ts';
import { uncoveredCode } from './definitions/uncovered.ts';
import type { Problem } from './errors.ts';
import { silentLogger } from './log.ts';
import { buildProviders } from './providers.ts';

/**
 * `plumbline validate [DIR]`: every problem in every definition under DIR, from
 * the manifest schema to the checks a provider makes on the unit's folder, and
 * a warning for each Terraform configuration or playbook no unit reads.
 */
export async function validateRepository(dir: string): Promise<Problem[]> {
  const root = resolve(dir);
  const { config } = normalizeConfig({ source: { url: root }, stateDir: '/nonexistent' }, null);
  if (!config) throw new Error('the built-in default config is invalid');
  const { units, problems } = await loadDefinitions(root, config.defaults);
  const providers = await buildProviders(config, silentLogger);
  const readPaths: string[] = [];
  for (const unit of units) {
    const provider = providers.get(unit.kind);
    problems.push(...(await providerProblems(unit, root, provider, { processes: true })));
    readPaths.push(...(await readsOf(unit, 'working-tree', root, provider, silentLogger)).entries.map((e) => e.path));
  }
  problems.push(...(await uncoveredCode(root, readPaths)));
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}
