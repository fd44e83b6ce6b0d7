import { builtinProviders } from '../providers/index.ts';
import type { DaemonConfig } from './config/types.ts';
import { installRoot } from './install-root.ts';
import type { Logger } from './log.ts';
import { readFile } from 'node:fs/promises';
import { secrets } from './secrets.ts';
import type { Provider, ProviderModule, SharedState } from './provider.ts';

/**
 * The one place the engine names the providers Plumbline ships. What it
 * imports from them is light (kinds, manifest fields, settings: the config
 * and definition loaders need them); each tool's code loads when its
 * provider is built.
 */
export { builtinProviders };

export { installRoot };

/** Build one provider per module with shared services, indexed by kind. */
export async function buildProviders(config: DaemonConfig, log: Logger, modules: readonly ProviderModule[] = builtinProviders): Promise<Map<string, Provider>> {
  const sharedState = await sharedStateOf(config);
  const context = { config, log, installRoot, ...(sharedState ? { sharedState } : {}) };
  const byKind = new Map<string, Provider>();
  for (const module of modules) byKind.set(module.kind, await module.create(context));
  return byKind;
}

/** The PostgreSQL store, as tools that keep state reach it (its password apart). */
async function sharedStateOf(config: DaemonConfig): Promise<SharedState | undefined> {
  const url = config.store?.url;
  if (!url) return undefined;
  const parsed = new URL(url);
  const inUrl = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.password = '';
  // The daemon's own connection uses TLS only when the URL asks (sslmode=require...); tools connect the same way
  // (Terraform's driver would otherwise insist on TLS).
  if (!parsed.searchParams.has('sslmode')) parsed.searchParams.set('sslmode', 'disable');
  const fromFile = config.store?.passwordFile ? (await readFile(config.store.passwordFile, 'utf8')).split(/\r?\n/)[0] : undefined;
  const password = fromFile ?? inUrl ?? process.env.PGPASSWORD;
  if (password) secrets.add(password);
  return { postgresUrl: parsed.toString(), ...(password ? { password } : {}) };
}
