import { normalizeConfig } from '../engine/config/load.ts';
import type { DaemonConfig } from '../engine/config/types.ts';
import type { UnitDefinition } from '../engine/definitions/types.ts';
import { silentLogger } from '../engine/log.ts';
import type { ProviderContext } from '../engine/provider.ts';
import { installRoot } from '../engine/providers.ts';

/**
 * What a provider's tests need of the engine to stand in for it: a daemon
 * config as the loader makes it, the context a provider is built with, a
 * unit as the definitions loader returns it, the workspace a run gets, real
 * SSH hosts, a silent logger and the process counter. Providers themselves
 * reach the engine only through engine/provider-kit.ts.
 */
export { processCounts } from '../engine/exec.ts';
export { silentLogger } from '../engine/log.ts';
export { startSshHosts, type SshHosts } from './ssh-hosts.ts';
export { createWorkspace } from '../engine/workspace.ts';

/** A daemon config from plumbline.yaml's fields (`source.url` and `stateDir` at least), every default filled in. */
export function testConfig(raw: Record<string, unknown>): DaemonConfig {
  const { config, problems } = normalizeConfig(raw, null);
  if (!config) throw new Error(`invalid test config: ${JSON.stringify(problems)}`);
  return config;
}

/** What a provider is built with: this config, a silent logger, this installation. */
export function providerContext(config: DaemonConfig): ProviderContext {
  return { config, log: silentLogger, installRoot };
}

/** A unit as the loader returns it: `name`, `type`, `kind`, `path` and `spec` given, the rest as a plain manifest leaves it. */
export function testUnit(unit: Pick<UnitDefinition, 'name' | 'type' | 'kind' | 'path' | 'spec'> & Partial<UnitDefinition>): UnitDefinition {
  return {
    file: `${unit.path}/${unit.type}.yaml`,
    approval: 'auto',
    applyAfterMs: null,
    dependsOn: [],
    vars: {},
    secretVars: {},
    manifestHash: 'test',
    ...unit,
  };
}
