import type { DaemonConfig } from '../config/types.ts';
import { workspaceRoot } from '../paths.ts';
import type { RunRequest } from '../provider.ts';
import { sandboxFor } from './grants.ts';
import { DEFAULT_SANDBOX_SETTINGS, type SandboxNeeds, type SandboxSettings, type SandboxSpec } from './types.ts';

/** The sandbox settings of a daemon config (one built in code says none: auto, no grants). */
export function sandboxSettings(config: Pick<DaemonConfig, 'sandbox'>): SandboxSettings {
  return config.sandbox ?? DEFAULT_SANDBOX_SETTINGS;
}

/**
 * The sandbox of a tool process of one run: the workspace tree and the
 * repository snapshot it links into (read-only), the unit's own copy, the
 * plan's artifacts and the unit's state folder (read-write), what the tool
 * needs besides (`needs`, from its provider), and what plumbline.yaml grants
 * the unit.
 */
export function runSandbox(
  config: Pick<DaemonConfig, 'sandbox'>,
  request: Pick<RunRequest, 'unit' | 'workdir' | 'artifactsDir'> & Partial<Pick<RunRequest, 'repoDir' | 'unitStateDir'>>,
  needs: SandboxNeeds = {},
): SandboxSpec {
  return sandboxFor(sandboxSettings(config), request.unit.name, {
    readOnly: [workspaceRoot(request.workdir, request.unit.path), request.repoDir, ...(needs.readOnly ?? [])],
    readWrite: [request.workdir, request.artifactsDir, request.unitStateDir, ...(needs.readWrite ?? [])],
  });
}
