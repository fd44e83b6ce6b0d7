import { join } from 'node:path';

/**
 * The layout of the state directory. Everything Plumbline keeps lives here, so
 * one folder to back up and one folder to protect (it is created 0700: plan
 * files and Terraform state hold secrets in clear).
 */
export function statePaths(stateDir: string) {
  return {
    root: stateDir,
    mirror: join(stateDir, 'source', 'mirror.git'),
    snapshots: join(stateDir, 'snapshots'),
    snapshot: (revision: string) => join(stateDir, 'snapshots', revision),
    store: join(stateDir, 'store'),
    runs: join(stateDir, 'runs'),
    run: (runId: string) => join(stateDir, 'runs', runId),
    unitState: (unit: string) => join(stateDir, 'units', unit),
    outputs: (unit: string) => join(stateDir, 'units', unit, 'outputs.json'),
    pluginCache: join(stateDir, 'plugin-cache'),
    lockFile: join(stateDir, 'daemon.lock'),
  };
}

export type StatePaths = ReturnType<typeof statePaths>;

/** Inside a run folder: the workspace tree and the plan's artifacts. */
export function runPaths(runDir: string) {
  return {
    tree: join(runDir, 'tree'),
    artifacts: join(runDir, 'artifacts'),
    rendered: join(runDir, 'artifacts', 'plan.txt'),
    document: join(runDir, 'artifacts', 'document.json'),
  };
}
