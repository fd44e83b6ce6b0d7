import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { LocalPlanResult } from './cli/types.ts';
import { loadConfig, normalizeConfig } from './config/load.ts';
import type { DaemonConfig } from './config/types.ts';
import { outputsFromStore, resolveInputs, type OutputsReader } from './controller/inputs.ts';
import type { Store } from './store/types.ts';
import { loadDefinitions } from './definitions/load.ts';
import { upstreamsOf } from './definitions/references.ts';
import type { UnitDefinition } from './definitions/types.ts';
import { asPlumblineError, formatProblem, isError, ValidationError, type Problem } from './errors.ts';
import type { Logger } from './log.ts';
import { statePaths } from './paths.ts';
import { buildProviders, builtinProviders } from './providers.ts';
import { createWorkspace } from './workspace.ts';
import { localPlanState, resetUnitState, type LocalPlanState } from './local-plan-cache.ts';
import { probeSandbox } from './sandbox/launch.ts';
import { sandboxSettings } from './sandbox/run-sandbox.ts';

/** What a developer's checkout holds that must never reach a plan workspace. */
const LOCAL_ONLY = ['.terraform', 'node_modules', 'cdktf.out', '.git'];

/**
 * `plumbline plan [DIR]`: plan the working tree without a daemon, for the
 * infrastructure repository's own CI before merge. With `--config`, plans run
 * against the daemon's state (so they show the real difference); without it,
 * against an empty state, with the tools' caches kept per directory across
 * runs (local-plan-cache.ts: an unchanged stack is not initialized again).
 * Each tool runs with the
 * settings the daemon would give it (Terraform's CLI configuration: the
 * config's, else `TF_CLI_CONFIG_FILE`). A unit that takes outputs
 * from an upstream never applied waits, as it would in the daemon.
 * Exit code as `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
 */
export async function planWorkingTree(options: {
  dir: string;
  stack?: string;
  configFile?: string;
  log: Logger;
}): Promise<{ exitCode: 0 | 1 | 2; results: LocalPlanResult[]; /** With `stack`: the other units, invalid, not planned. */ skipped?: LocalPlanResult[] }> {
  // One plan, then the process ends: each schema parses a handful of times at
  // most, so compiling a fast path for it (zod's generated code) costs more than
  // it saves. The daemon, a long-lived process, keeps the compiled fast paths.
  z.config({ jitless: true });
  const root = resolve(options.dir);
  const scratch = await mkdtemp(join(tmpdir(), 'plumbline-plan-'));
  let store: Store | undefined;
  let local: LocalPlanState | undefined;
  try {
    if (!options.configFile) local = await localPlanState(root, join(scratch, 'state'), options.log);
    const config = local ? defaultConfig(root, local.stateDir) : await loadConfig(options.configFile!);
    // While the definitions load: the sandbox probe (or its success remembered in the state folder, as the daemon remembers it).
    if (sandboxSettings(config).mode !== 'off') void probeSandbox({ file: statePaths(config.stateDir).sandboxProbe, log: options.log });
    const { units, problems } = await loadDefinitions(root, config.defaults, config.limits);
    const errors = problems.filter(isError);
    // Each invalid unit is reported; the valid ones are planned all the same, as the daemon does.
    const invalid = invalidUnits(errors);
    const selected = options.stack ? units.filter((u) => u.name === options.stack) : units;
    if (options.stack && selected.length === 0) {
      const problemsOfIt = errors.filter((p) => p.unit === options.stack);
      return {
        exitCode: 1,
        results: [
          problemsOfIt.length > 0
            ? invalidResult(options.stack, problemsOfIt)
            : { unit: options.stack, kind: 'unknown', state: 'failed', ok: false, error: { code: 'E_UNIT_NOT_FOUND', message: `no unit named ${options.stack} under ${root}`, hint: `known units: ${units.map((u) => u.name).join(', ') || 'none'}` } },
        ],
      };
    }
    // Only the tools of the units planned load (a plan of one stack loads neither Ansible's code nor CDKTF's).
    const kinds = new Set(selected.map((u) => u.kind));
    const providers = await buildProviders(config, options.log, builtinProviders.filter((m) => kinds.has(m.kind)));
    const paths = statePaths(config.stateDir);
    const results: LocalPlanResult[] = options.stack ? [] : [...invalid].map(([name, list]) => invalidResult(name, list));
    // Against the daemon's state (--config): its store holds the outputs upstream units applied.
    if (options.configFile) store = await (await import('./store/open.ts')).openStore(config, options.log);
    const outputsOf: OutputsReader = store ? outputsFromStore(store) : async () => undefined;
    for (const unit of selected) {
      const runDir = join(scratch, unit.name);
      try {
        const waitingFor = await unappliedUpstreams(unit, outputsOf);
        if (waitingFor.length > 0) {
          results.push(waitingResult(unit, waitingFor, options.configFile !== undefined));
          continue;
        }
        const provider = providers.get(unit.kind);
        if (!provider) throw new Error(`no provider for kind ${unit.kind}`);
        const workdir = await createWorkspace({ snapshotDir: root, unitPath: unit.path, treeDir: join(runDir, 'tree'), exclude: LOCAL_ONLY });
        const artifactsDir = join(runDir, 'artifacts');
        await mkdir(artifactsDir, { recursive: true, mode: 0o700 });
        await mkdir(paths.unitState(unit.name), { recursive: true, mode: 0o700 });
        // The kept folder: its caches stay, whatever else a run left there goes (the plan is against no state).
        if (local?.persistent) await resetUnitState(paths.unitState(unit.name), provider.stateDirCaches ?? []);
        const inputs = await resolveInputs(unit, 'working-tree', outputsOf);
        const outcome = await provider.plan({
          unit,
          revision: 'working-tree',
          workdir,
          repoDir: root,
          artifactsDir,
          unitStateDir: paths.unitState(unit.name),
          vars: inputs.vars,
          sensitiveVars: inputs.sensitiveVars,
          resolvedSpec: inputs.resolvedSpec,
          signal: new AbortController().signal,
          log: options.log.child({ unit: unit.name }),
        });
        results.push({
          unit: unit.name,
          kind: unit.kind,
          state: 'planned',
          ok: true,
          summary: outcome.summary,
          rendered: outcome.rendered,
          // What cannot be predicted is shown, never counted: the exit code says what would change.
          hasChanges: outcome.hasChanges,
          ...(outcome.uncertain?.length ? { uncertain: outcome.uncertain } : {}),
          ...(outcome.warnings?.length ? { warnings: outcome.warnings } : {}),
        });
      } catch (error) {
        const typed = asPlumblineError(error);
        results.push({ unit: unit.name, kind: unit.kind, state: 'failed', ok: false, error: { code: typed.code, message: typed.message, ...(typed.hint ? { hint: typed.hint } : {}) } });
      }
    }
    const exitCode = results.some((r) => !r.ok) ? 1 : results.some((r) => r.hasChanges) ? 2 : 0;
    const skipped = options.stack ? [...invalid].filter(([name]) => name !== options.stack).map(([name, list]) => invalidResult(name, list)) : [];
    return { exitCode, results, ...(skipped.length > 0 ? { skipped } : {}) };
  } catch (error) {
    const typed = asPlumblineError(error);
    const message = typed instanceof ValidationError ? typed.problems.map(formatProblem).join('\n') : typed.message;
    return { exitCode: 1, results: [{ unit: '*', kind: 'repository', state: 'failed', ok: false, error: { code: typed.code, message, ...(typed.hint ? { hint: typed.hint } : {}) } }] };
  } finally {
    await store?.close();
    await local?.release();
    await rm(scratch, { recursive: true, force: true });
  }
}

function invalidUnits(errors: readonly Problem[]): Map<string, Problem[]> {
  const byUnit = new Map<string, Problem[]>();
  for (const problem of errors) {
    const name = problem.unit ?? problem.file;
    byUnit.set(name, [...(byUnit.get(name) ?? []), problem]);
  }
  return byUnit;
}

function invalidResult(unit: string, problems: readonly Problem[]): LocalPlanResult {
  return {
    unit,
    kind: 'definition',
    state: 'failed',
    ok: false,
    error: { code: 'E_VALIDATION', message: problems.map(formatProblem).join('\n'), hint: 'fix the definition (plumbline validate lists every problem)' },
  };
}

/**
 * The upstream units whose outputs `unit` takes (`fromOutput` anywhere in its
 * definition) and that have none: never applied, or not in this state at all.
 */
async function unappliedUpstreams(unit: UnitDefinition, outputsOf: OutputsReader): Promise<string[]> {
  const upstreams = upstreamsOf(unit);
  const missing: string[] = [];
  for (const name of upstreams) if ((await outputsOf(name)) === undefined) missing.push(name);
  return missing.sort();
}

function waitingResult(unit: UnitDefinition, upstreams: readonly string[], daemonState: boolean): LocalPlanResult {
  const names = upstreams.join(', ');
  const never = `${upstreams.length === 1 ? 'which has' : 'which have'} never been applied`;
  return {
    unit: unit.name,
    kind: unit.kind,
    state: 'waiting',
    ok: true,
    waitingFor: [...upstreams],
    message: daemonState
      ? `takes outputs from ${names}, ${never} by the daemon`
      : `takes outputs from ${names}, ${never} here: without --config, plans run against an empty state (--config FILE plans against the daemon\u2019s)`,
  };
}

function defaultConfig(root: string, stateDir: string): DaemonConfig {
  const { config } = normalizeConfig({ source: { url: root }, stateDir }, null);
  if (!config) throw new Error('the built-in default config is invalid');
  return config;
}
