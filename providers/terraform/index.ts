import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ApplyOutcome,
  type ApplyRequest,
  formatProblem,
  KeyedMutex,
  type OutputValue,
  pathExists,
  type PlanOutcome,
  type PlanRequest,
  PlumblineError,
  type ProviderContext,
  type ProviderFactory,
  type RunRequest,
  runSandbox,
  secrets,
  settingsOf,
  ToolError,
  ValidationError,
} from '../../engine/provider-kit.ts';
import { placeState, stateSchemaOf } from './backend.ts';
import { ensureStateRow } from './shared-state.ts';
import { TerraformCli, type PlanResult } from './commands.ts';
import type { TerraformStep } from './classify.ts';
import { fingerprint } from './fingerprint.ts';
import { maskPlan } from './mask.ts';
import { normalizePlan } from './normalize.ts';
import { applySummary, diagnosticsOf, formatDiagnostic, parseUiStream, presentDiagnostics, type UiMessage } from './diagnostics.ts';
import { changeNames } from './change-names.ts';
import { configFileNames } from './config-files.ts';
import { declaredVariables, undeclaredVariableError, undeclaredVariables } from './declared-variables.ts';
import { managedAddresses } from './managed.ts';
import { markKnownSecrets } from './secret-paths.ts';
import { MODULE_OUTSIDE_HINT, moduleTreeProblems, validateStack } from './validate.ts';
import { terraformReads } from './reads.ts';
import type { PathContext } from './repo-paths.ts';
import { outputsFromApplyStream, parseOutputs, plannedOutputs } from './outputs.ts';
import { parsePlanJson } from './plan-schema.ts';
import { renderPlan } from './render.ts';
import { effectiveSettings, type TerraformSettings, terraformSettingsPart } from './settings.ts';
import { registerSecretVars, VAR_FILE, writeVarFile } from './variables.ts';
import { terraformNeeds } from './sandbox.ts';
import { DATA_DIR, LOCK_FILE, TerraformDataDir } from './data-dir.ts';
import { initInputsFingerprint } from './init-inputs.ts';

export type { NormalizedPlan, ResourceChangeView, OutputChangeView, AttributeChange } from './normalize.ts';
export { TERRAFORM_ERROR_CODES } from './error-codes.ts';
export type { DiagnosticView } from './diagnostics.ts';

/** What a Terraform (or CDKTF) unit keeps in its state folder that holds no state (Provider.stateDirCaches). */
export const TERRAFORM_STATE_DIR_CACHES: readonly string[] = [DATA_DIR];

/** Artifacts a plan leaves in its `artifactsDir`. */
export const PLAN_FILE = 'tfplan';
export const PLAN_JSON_FILE = 'plan.json';
export const PLAN_TEXT_FILE = 'plan.txt';

export interface TerraformTools {
  /**
   * init + plan -out (-destroy for `request.destroy`) + show -json +
   * normalize/mask/render, in configDir (a folder with *.tf or *.tf.json).
   * Every variable passed must be declared there (E_UNDECLARED_VARIABLE).
   */
  planDirectory(request: PlanRequest, configDir: string): Promise<PlanOutcome>;
  /** Apply exactly the saved plan in request.artifactsDir, in the same configDir; outputs from its stream (or `output -json`). */
  applyDirectory(request: ApplyRequest, configDir: string): Promise<ApplyOutcome>;
  /** `output -json` in a configDir that a plan initialized. */
  outputsOf(request: RunRequest, configDir: string): Promise<Record<string, OutputValue>>;
}

/** The settings terraform runs with under this daemon config (CDKTF stacks' too). */
export function terraformSettings(context: ProviderContext): TerraformSettings {
  return effectiveSettings(settingsOf(context.config, terraformSettingsPart), context.log);
}

/**
 * One lock per plugin cache, held around every `terraform init`: the cache
 * is not safe for concurrent inits. Terraform and CDKTF stacks of one daemon
 * share the cache of its state directory, so they share its lock.
 */
const initLocks = new KeyedMutex();

/** One lock per data dir: its check and init are one step (a unit never runs twice at once; a preview plans in a copy). */
const dataDirLocks = new KeyedMutex();

/** In a workdir: the init inputs its plan ran with, so apply knows whether the data dir still holds that init. */
const INIT_MARKER = '.plumbline-init';

/** Terraform's words when a configuration needs an init its data dir does not hold. */
const INIT_REQUIRED = /terraform init|Module not installed|Backend initialization required|Inconsistent dependency lock file|Required plugins are not installed|Module source has changed|Module version requirements have changed/i;

export function createTerraformTools(context: ProviderContext, settings: TerraformSettings): TerraformTools {
  const pluginCacheDir = join(context.config.stateDir, 'plugin-cache');

  async function cliFor(request: RunRequest, configDir: string): Promise<TerraformCli> {
    await mkdir(pluginCacheDir, { recursive: true });
    const paths = pathContext(request, configDir);
    const env: Record<string, string> = {
      // `.terraform` lives in the unit's state folder and outlives the run's workspace.
      TF_DATA_DIR: new TerraformDataDir(request.unitStateDir).path,
      // The shared state database's password reaches terraform only through its environment.
      ...(context.sharedState?.password ? { PGPASSWORD: context.sharedState.password } : {}),
    };
    const sandbox = (step: TerraformStep) => runSandbox(context.config, request, terraformNeeds(settings, pluginCacheDir, { init: step === 'init' }));
    return new TerraformCli({ settings, cwd: configDir, pluginCacheDir, signal: request.signal, log: request.log, paths, env, sandbox });
  }

  /**
   * Make the unit's data dir fit the configuration in configDir: nothing when
   * an init with the same inputs filled it (its lock file is copied into a
   * workspace that has none), else `init`. Returns init's UI stream (its
   * warnings are shown with the plan) and whether it ran.
   * `force`: init whatever the fingerprint says (terraform asked for it).
   */
  async function initialize(cli: TerraformCli, request: RunRequest, configDir: string, options: { force?: boolean } = {}): Promise<{ ran: boolean; restoredLock?: boolean; messages: UiMessage[] }> {
    const dataDir = new TerraformDataDir(request.unitStateDir);
    return dataDirLocks.run(dataDir.path, async () => {
      const shared = context.sharedState ? { connStr: context.sharedState.postgresUrl, schema: stateSchemaOf(request.unit.name) } : undefined;
      const placement = await placeState(configDir, request.unitStateDir, shared);
      request.log.debug({ state: placement.managedBy }, 'terraform state placement');
      const repoCarriesLock = await pathExists(join(configDir, LOCK_FILE));
      const inputs = await initInputsFingerprint(configDir, settings, pluginCacheDir);
      if (!options.force && (await dataDir.isCurrent(inputs))) {
        if (!repoCarriesLock) await dataDir.restoreLockFile(configDir);
        await writeFile(join(configDir, INIT_MARKER), `${inputs}\n`);
        request.log.debug({ dataDir: dataDir.path }, 'terraform init skipped: the data dir was initialized with the same inputs');
        return { ran: false, restoredLock: !repoCarriesLock, messages: [] };
      }
      await dataDir.invalidate();
      await mkdir(dataDir.path, { recursive: true, mode: 0o700 });
      const stream = parseUiStream((await initLocks.run(pluginCacheDir, () => cli.init())).stdout);
      if (shared && placement.managedBy === 'plumbline') await ensureStateRow(context.sharedState!, shared.schema);
      await dataDir.record(inputs, configDir, repoCarriesLock);
      await writeFile(join(configDir, INIT_MARKER), `${inputs}\n`);
      return { ran: true, messages: stream };
    });
  }

  /**
   * Before apply or output, in the workdir a plan initialized: init again only
   * when the data dir no longer holds that init (another revision re-initialized
   * it since, or the workspace was made again on another member).
   */
  async function initializedAsPlanned(cli: TerraformCli, request: RunRequest, configDir: string): Promise<void> {
    const planned = (await readFile(join(configDir, INIT_MARKER), 'utf8').catch(() => '')).trim();
    const current = planned !== '' && (await new TerraformDataDir(request.unitStateDir).isCurrent(planned));
    if (!current) await initialize(cli, request, configDir);
  }

  return {
    async planDirectory(request, configDir) {
      registerSecretVars(request.vars, request.sensitiveVars);
      await assertTerraformFiles(configDir);
      // Before init: a misspelt variable must not cost a provider download.
      const undeclared = undeclaredVariables(request.unit, Object.keys(request.vars), await declaredVariables(configDir));
      if (undeclared.length > 0) throw await undeclaredVariableError(request.unit, undeclared, request.repoDir);
      await mkdir(request.artifactsDir, { recursive: true, mode: 0o700 });
      const cli = await cliFor(request, configDir);
      const initialized = await initialize(cli, request, configDir);
      let initMessages = initialized.messages;

      const planFile = join(request.artifactsDir, PLAN_FILE);
      const varFile = await writeVarFile(request.artifactsDir, request.vars);
      let planned: PlanResult;
      try {
        // A preview reads the real state (a backend of the stack's own, the shared state database) but never locks it.
        const plan = () => cli.plan(planFile, varFile, { destroy: request.destroy === true, lock: request.preview !== true });
        planned = await plan().catch(async (error: unknown) => {
          // The fingerprint reads the configuration without terraform: should it miss an input, terraform says so, and one init settles it.
          if (!(!initialized.ran && error instanceof ToolError && error.code === 'E_TERRAFORM_PLAN' && INIT_REQUIRED.test(error.message))) throw error;
          request.log.warn({ err: error.message }, 'terraform asks for an init the fingerprint did not foresee: init, then plan again');
          // The kept lock file may be what terraform objects to: init picks the versions afresh, as without one.
          if (initialized.restoredLock) await rm(join(configDir, LOCK_FILE), { force: true });
          initMessages = (await initialize(cli, request, configDir, { force: true })).messages;
          return plan();
        });
      } finally {
        // The saved plan carries the values from here on; apply takes no variables.
        if (varFile) await rm(varFile, { force: true });
      }
      await chmod(planFile, 0o600); // holds variable values in clear

      // The raw JSON never leaves this function: secrets are registered and
      // masked before anything is built from it or written.
      const raw = markKnownSecrets(parsePlanJson(await cli.showPlanJson(planFile)));
      const masked = maskPlan(raw);
      const document = normalizePlan(raw);
      if (planned.changes && !document.hasChanges) {
        request.log.warn({}, 'terraform reports changes the normalized plan does not show');
        document.hasChanges = true;
      }
      // Warnings say how the plan was made, not what it does: they are kept
      // out of the fingerprint, so a plan id does not depend on them.
      const planFingerprint = fingerprint(document);
      const warnings = presentDiagnostics(diagnosticsOf([...initMessages, ...planned.messages], 'warning'), pathContext(request, configDir)).map(formatDiagnostic);
      if (warnings.length > 0) document.warnings = warnings;
      const rendered = renderPlan(document);
      await writeFile(join(request.artifactsDir, PLAN_JSON_FILE), `${JSON.stringify(masked, null, 2)}\n`);
      await writeFile(join(request.artifactsDir, PLAN_TEXT_FILE), rendered);

      request.log.info({ summary: document.summary, hasChanges: document.hasChanges }, 'terraform plan ready');
      return {
        summary: { ...document.summary },
        hasChanges: document.hasChanges,
        destructive: document.destructive,
        document,
        rendered,
        fingerprint: planFingerprint,
        changes: changeNames(document),
        warnings,
        managed: managedAddresses(raw),
        // Nothing changes: the planned outputs are the outputs in the state.
        ...(document.hasChanges ? { plannedOutputs: plannedOutputs(raw) } : { outputs: plannedOutputs(raw) }),
      };
    },

    async applyDirectory(request, configDir) {
      registerSecretVars(request.vars, request.sensitiveVars);
      const planFile = join(request.artifactsDir, PLAN_FILE);
      if (!(await pathExists(planFile))) {
        throw new ToolError('E_PLAN_MISSING', `the saved plan ${planFile} does not exist`, {
          retry: 'waiting',
          hint: 'the plan artifacts are gone; Plumbline must plan again before it can apply',
        });
      }
      const cli = await cliFor(request, configDir);
      await initializedAsPlanned(cli, request, configDir);

      const messages = await cli.apply(planFile);
      // Only a sensitive output (left out of the stream) costs another process.
      const outputs = outputsFromApplyStream(messages) ?? parseOutputs(await cli.outputJson());
      request.log.info({ outputs: Object.keys(outputs).length }, 'terraform apply finished');
      return { outputs, message: secrets.maskText(applySummary(messages) ?? 'Apply complete!') };
    },

    async outputsOf(request, configDir) {
      const cli = await cliFor(request, configDir);
      await initializedAsPlanned(cli, request, configDir);
      return parseOutputs(await cli.outputJson());
    },
  };
}

export const createTerraformProvider: ProviderFactory = (context) => {
  const settings = terraformSettings(context);
  const tools = createTerraformTools(context, settings);
  return {
    canDestroy: true,
    validate: (unit, unitDir, options) => validateStack(unit, unitDir, options, settings, context.config),
    async plan(request) {
      await assertModulesInRepository(request);
      return tools.planDirectory(request, request.workdir);
    },
    apply: (request) => tools.applyDirectory(request, request.workdir),
    outputs: (request) => tools.outputsOf(request, request.workdir),
    reads: terraformReads,
    stateDirCaches: TERRAFORM_STATE_DIR_CACHES,
  };
};

/**
 * How terraform's paths read in the repository. The var file Plumbline writes
 * holds the stack's vars, so a warning about it names the stack's manifest.
 */
function pathContext(request: RunRequest, configDir: string): PathContext {
  return {
    unitPath: request.unit.path,
    workdir: request.workdir,
    configDir,
    repoDir: request.repoDir,
    replacements: [[join(request.artifactsDir, VAR_FILE), request.unit.file]],
  };
}

/**
 * `validate` refuses a module taken from outside the repository; a plan that
 * no validation preceded (`plumbline plan`) refuses it too, before terraform
 * could run any of its code.
 */
async function assertModulesInRepository(request: RunRequest): Promise<void> {
  const { problems } = await moduleTreeProblems(request.repoDir, request.unit.path);
  if (problems.length === 0) return;
  throw new PlumblineError('E_INPUT_OUTSIDE_REPOSITORY', problems.map(formatProblem).join('; '), { retry: 'stalled', hint: MODULE_OUTSIDE_HINT });
}

async function assertTerraformFiles(configDir: string): Promise<void> {
  if ((await configFileNames(configDir)).length === 0) {
    throw new ValidationError([{ file: configDir, line: 1, column: 1, message: 'no Terraform files (*.tf, *.tf.json) in this folder' }], {
      hint: 'put the stack\'s Terraform configuration next to its stack.yaml',
    });
  }
}

