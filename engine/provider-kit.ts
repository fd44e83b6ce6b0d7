/**
 * What a provider may use of the engine, and nothing more: every file under
 * `providers/` imports the engine from here only (docs/providers.md). What is
 * not listed is the engine's own business (the store, the controller, the
 * API) and may change without a provider noticing. The config and definition
 * loaders read providers' manifest and settings declarations through this
 * file too, so what it pulls in at load time stays light.
 */

// The contract a provider implements, and what it is handed.
export type {
  ApplyOutcome,
  ApplyRequest,
  HostStatus,
  ManifestFile,
  ManifestInput,
  ManifestPart,
  OutputValue,
  PlanOutcome,
  PlanRequest,
  Provider,
  ProviderContext,
  ProviderFactory,
  ProviderModule,
  ReadEntry,
  ReadSet,
  ReadsRequest,
  RunRequest,
  SettingsPart,
  SharedState,
  ValidateOptions,
} from './provider.ts';
/** A unit as the engine loaded it: `spec` is the provider's own, `vars` and `secretVars` the engine's. */
export type { SecretSource, UnitDefinition } from './definitions/types.ts';
/** The daemon config; a provider reads its own section with `settingsOf`. */
export type { DaemonConfig } from './config/types.ts';
export { settingsOf } from './config/provider-settings.ts';
/** Plan summaries, per-host states, and the reasons an apply may end with (`Converged`, `NotIdempotent`...). */
export type { ChangeSummary, HostState } from './model.ts';
export type { ApplyReason } from './controller/reasons.ts';
/** The structured logger a run is given (`RunRequest.log`). */
export type { Logger } from './log.ts';

/**
 * Typed errors: a stable `code`, a `hint` saying how to fix it, a `cause`,
 * and a retry class (`stalled` until a commit fixes it, `waiting`,
 * `transient`). `Problem` is one finding at a file, line and column.
 * `ErrorCode` is every code some table declares: a provider declares its own
 * in an `ErrorCodeTable` (its `errorCodes`, docs/providers.md).
 */
export {
  type ErrorCode,
  type ErrorCodeTable,
  formatProblem,
  isPlumblineError,
  PlumblineError,
  type Problem,
  type RetryClass,
  ToolError,
  ValidationError,
} from './errors.ts';
/** The one way to start a process: argument arrays, timeouts, an AbortSignal, masked output. */
export { type ExecResult, run } from './exec.ts';
/**
 * Sandboxed tool runs: pass a `SandboxSpec` as `run(..., { sandbox })`. A
 * run's process gets `runSandbox(config, request, needs)` (its workspace,
 * snapshot, artifacts and state folder, plus what the tool needs); a process
 * outside a run `sandboxFor(sandboxSettings(config), unit, needs)`. The
 * operator's grants of plumbline.yaml are added to both; `isGranted` tells
 * whether they cover a path the repository names (a key file).
 */
export { isGranted, sandboxFor } from './sandbox/grants.ts';
export { runSandbox, sandboxSettings } from './sandbox/run-sandbox.ts';
export { sandboxEnabled } from './sandbox/launch.ts';
/** A command as the shell finds it (a bare name on PATH); null when there is none. */
export { findExecutable } from './sandbox/host.ts';
export type { SandboxNeeds, SandboxSpec } from './sandbox/types.ts';
/** Secret values registered here are masked in every log, plan, stored record and API answer. */
export { MASK, SecretRegistry, secrets } from './secrets.ts';
/** Paths shown to people, repository-relative; a tool binary named in a config; a run's workspace root; one lock. */
export { repoRelativeText, toolPath, workspaceRoot } from './paths.ts';
export { pathExists } from './fs.ts';
export { KeyedMutex, Mutex } from './mutex.ts';

/** YAML with every value's line and column, and problems placed at the field they are about. */
export { type Locate, parseYamlDocument, type YamlPath } from './yaml/parse.ts';
export { closest, describeValue, formatPath, ProblemCollector } from './yaml/problems.ts';
/** For a manifest part: the raw document, paths it names (inside the unit folder's repository), durations. */
export { isMapping, type RawMapping, type VariableNames } from './definitions/manifest-fields.ts';
export { resolveInUnit, type UnitFolder } from './definitions/unit-paths.ts';
export { durationSchema } from './definitions/schema.ts';
