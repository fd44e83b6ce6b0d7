import { join } from 'node:path';
import { type ExecResult, type Logger, pathExists, run, type SandboxSpec, ToolError } from '../../engine/provider-kit.ts';
import { classifyFailure, type TerraformFailure, type TerraformStep } from './classify.ts';
import { parseUiStream, type UiMessage } from './diagnostics.ts';
import type { PathContext } from './repo-paths.ts';
import type { TerraformSettings } from './settings.ts';

/**
 * The terraform subcommands Plumbline runs, in one config folder, always
 * through `run()`: no prompts, no colour, JSON where terraform offers it, the
 * shared plugin cache, the configured timeout and the run's AbortSignal.
 */

/** How long plan and apply wait for a state lock held by someone else. */
export const LOCK_TIMEOUT = '60s';

/** What every terraform process gets: no prompts, no update checks, the configured CLI config. */
export function terraformEnvironment(settings: TerraformSettings): Record<string, string> {
  return {
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    ...(settings.cliConfigFile ? { TF_CLI_CONFIG_FILE: settings.cliConfigFile } : {}),
  };
}

export interface TerraformCliOptions {
  settings: TerraformSettings;
  /** Folder with the *.tf / *.tf.json files; terraform runs here. */
  cwd: string;
  pluginCacheDir: string;
  signal: AbortSignal;
  log: Logger;
  /** How terraform's paths read in the repository (error messages, warnings). */
  paths?: PathContext;
  /** Added to every command's environment (the shared state database's password). */
  env?: Record<string, string>;
  /** What each command may see (`init` alone writes into the plugin cache); unsandboxed when absent. */
  sandbox?: (step: TerraformStep) => SandboxSpec;
}

export interface PlanArgOptions {
  /** Plan to destroy everything in the state (`-destroy`). */
  destroy?: boolean;
  /**
   * `false`: plan without taking the state lock (`-lock=false`), for a
   * preview, which must never lock the real state (a backend of the stack's
   * own, or the shared state database): a plan never writes state, it only
   * reads it. Otherwise the lock is taken, waiting LOCK_TIMEOUT for it.
   */
  lock?: boolean;
}

/** The arguments of `terraform plan`. */
export function planArgs(planFile: string, varFile: string | undefined, options: PlanArgOptions = {}): string[] {
  return [
    'plan',
    ...(options.destroy ? ['-destroy'] : []),
    '-input=false',
    '-no-color',
    '-json',
    '-detailed-exitcode',
    options.lock === false ? '-lock=false' : `-lock-timeout=${LOCK_TIMEOUT}`,
    `-out=${planFile}`,
    ...(varFile ? [`-var-file=${varFile}`] : []),
  ];
}

export interface PlanResult {
  /** Exit code 2: the plan has changes. */
  changes: boolean;
  /** The plan's UI stream (its warnings are shown with the plan). */
  messages: UiMessage[];
}

export class TerraformCli {
  constructor(private readonly options: TerraformCliOptions) {}

  /**
   * `init`. The caller holds the init lock. A stack without a dependency lock
   * file would not be allowed to use the plugin cache (terraform re-installs
   * the provider into the cache and links it, on every fresh workdir), so then
   * terraform may take cached providers and record their checksums in a new lock
   * file; a stack that commits its lock file keeps every check.
   */
  async init(): Promise<ExecResult> {
    const hasLockFile = await pathExists(join(this.options.cwd, '.terraform.lock.hcl'));
    return this.exec('init', ['init', '-input=false', '-no-color', '-json', '-reconfigure'], {
      env: hasLockFile ? {} : { TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE: '1' },
    });
  }

  /** `plan -out` (`-destroy`: plan to destroy everything in the state), with the UI stream it printed. */
  async plan(planFile: string, varFile: string | undefined, options: PlanArgOptions = {}): Promise<PlanResult> {
    const result = await this.exec('plan', planArgs(planFile, varFile, options), { okExitCodes: [0, 2] });
    return { changes: result.exitCode === 2, messages: parseUiStream(result.stdout) };
  }

  /** `show -json <planfile>`: the raw plan, secrets in clear. Keep it in memory only. */
  async showPlanJson(planFile: string): Promise<string> {
    return (await this.exec('show', ['show', '-json', '-no-color', planFile])).stdout;
  }

  /** Apply exactly the saved plan; returns terraform's UI messages (summary, outputs). */
  async apply(planFile: string): Promise<UiMessage[]> {
    // An apply finishes even if the daemon dies under it: another member takes the run over.
    const result = await this.exec('apply', ['apply', '-input=false', '-no-color', '-json', `-lock-timeout=${LOCK_TIMEOUT}`, planFile], { outlivesDaemon: true });
    return parseUiStream(result.stdout);
  }

  /** `output -json`: every root output, sensitive ones in clear. */
  async outputJson(): Promise<string> {
    return (await this.exec('output', ['output', '-json', '-no-color'])).stdout;
  }

  environment(): Record<string, string> {
    return { ...terraformEnvironment(this.options.settings), TF_PLUGIN_CACHE_DIR: this.options.pluginCacheDir, ...this.options.env };
  }

  private async exec(
    step: TerraformStep,
    args: string[],
    extra: { env?: Record<string, string>; okExitCodes?: number[]; outlivesDaemon?: boolean } = {},
  ): Promise<ExecResult> {
    const { settings, cwd, signal, log, paths, sandbox } = this.options;
    let failure: TerraformFailure | undefined;
    try {
      return await run(settings.binary, args, {
        cwd,
        ...(sandbox ? { sandbox: sandbox(step) } : {}),
        env: { ...this.environment(), ...extra.env },
        timeoutMs: settings.timeoutMs,
        signal,
        log,
        okExitCodes: extra.okExitCodes,
        outlivesDaemon: extra.outlivesDaemon,
        classify: (result) => (failure = classifyFailure(step, result, paths)),
      });
    } catch (error) {
      // run() words its message from the tail of stderr; with -json the real
      // text is in the diagnostics, so the error is rebuilt from those.
      if (failure && error instanceof ToolError && error.code === failure.code) {
        throw new ToolError(failure.code, failure.message, {
          retry: failure.retry,
          hint: failure.hint,
          cause: error,
          details: { ...error.details, command: `terraform ${step}`, diagnostics: failure.diagnostics },
        });
      }
      throw error;
    }
  }
}

