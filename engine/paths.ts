import { isAbsolute, join, resolve } from 'node:path';

/**
 * A unit's name as one file-name segment. Names of units in nested folders
 * hold slashes (`prod/vpc`); `~` never appears in a name, so the mapping is
 * one to one and `prod/vpc` never shares a folder with a unit named `prod`.
 */
export function unitFileName(unit: string): string {
  return unit.replaceAll('/', '~');
}

/**
 * Text for people with the daemon's folders taken out: each root (the run's
 * workspace tree, the read-only snapshot) is removed with its trailing slash,
 * so `/var/lib/plumbline/snapshots/<commit>/roles/web/tasks/main.yml` reads
 * `roles/web/tasks/main.yml`, as in the repository.
 */
export function repoRelativeText(text: string, roots: readonly (string | undefined)[]): string {
  let result = text;
  // Longest first: a workspace tree may live below another root.
  for (const root of roots.filter((r): r is string => !!r).sort((a, b) => b.length - a.length)) {
    const prefix = root.endsWith('/') ? root : `${root}/`;
    result = result.split(prefix).join('');
    result = result.split(root).join('.');
  }
  return result;
}

/**
 * The root of a run's workspace tree (the repository as the run sees it),
 * from the unit's folder in it: `<tree>/stacks/web` with unit path
 * `stacks/web` gives `<tree>`.
 */
export function workspaceRoot(workdir: string, unitPath: string): string {
  const depth = unitPath.split('/').filter(Boolean).length;
  return resolve(workdir, ...Array<string>(depth).fill('..'));
}

/**
 * A tool's binary as a config names it: a bare name is looked up on PATH;
 * anything with a slash is a path, relative to `base` (the config's folder).
 */
export function toolPath(binary: string, base: string): string {
  return binary.includes('/') && !isAbsolute(binary) ? resolve(base, binary) : binary;
}

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
    unitState: (unit: string) => join(stateDir, 'units', unitFileName(unit)),
    outputs: (unit: string) => join(stateDir, 'units', unitFileName(unit), 'outputs.json'),
    /** Each unit's preview state folders (previews/state-folder.ts), by unitFileName, one per previewed ref. */
    previewStates: join(stateDir, 'previews', 'units'),
    previewUnitStates: (unit: string) => join(stateDir, 'previews', 'units', unitFileName(unit)),
    /** A ref's preview state folder of a unit: by a hash of the ref (previewRefKey), so a ref name cannot shape a path. */
    previewState: (unit: string, refKey: string) => join(stateDir, 'previews', 'units', unitFileName(unit), refKey),
    pluginCache: join(stateDir, 'plugin-cache'),
    lockFile: join(stateDir, 'daemon.lock'),
    /** A successful bubblewrap probe, remembered across starts (sandbox/probe-cache.ts). */
    sandboxProbe: join(stateDir, 'sandbox-probe.json'),
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
