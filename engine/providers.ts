import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinProviders } from '../providers/index.ts';
import type { DaemonConfig } from './config/types.ts';
import type { Logger } from './log.ts';
import type { Provider, ProviderModule } from './provider.ts';

/**
 * The one place the engine names the providers Plumbline ships. What it
 * imports from them is light (kinds, manifest fields, settings: the config
 * and definition loaders need them); each tool's code loads when its
 * provider is built.
 */
export { builtinProviders };

/** Plumbline's own installation folder (where its node_modules live). */
export const installRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Build one provider per module with shared services, indexed by kind. */
export async function buildProviders(config: DaemonConfig, log: Logger, modules: readonly ProviderModule[] = builtinProviders): Promise<Map<string, Provider>> {
  const context = { config, log, installRoot };
  const byKind = new Map<string, Provider>();
  for (const module of modules) byKind.set(module.kind, await module.create(context));
  return byKind;
}
