import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DaemonConfig } from './config/types.ts';
import type { Logger } from './log.ts';
import { Mutex } from './mutex.ts';
import type { Provider, ProviderFactory } from './provider.ts';

/** Plumbline's own installation folder (where its node_modules live). */
export const installRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Build one provider per factory with shared services, indexed by kind. */
export async function buildProviders(config: DaemonConfig, log: Logger): Promise<Map<string, Provider>> {
  // The registry is loaded lazily so the engine depends only on the seam.
  const { builtinProviderFactories } = (await import('../providers/index.ts')) as { builtinProviderFactories: readonly ProviderFactory[] };
  const context = { config, log, initLock: new Mutex(), installRoot };
  const byKind = new Map<string, Provider>();
  for (const factory of builtinProviderFactories) {
    const provider = factory(context);
    for (const kind of provider.kinds) byKind.set(kind, provider);
  }
  return byKind;
}
