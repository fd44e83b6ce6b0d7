import type { DaemonConfig } from './config/types.ts';
import type { UnitDefinition } from './definitions/types.ts';
import type { Problem } from './errors.ts';
import type { Logger } from './log.ts';
import type { ChangeSummary, HostState } from './model.ts';
import type { Mutex } from './mutex.ts';

/**
 * The seam between the engine and each tool. The engine knows units, revisions,
 * plans and policies; a provider knows how to turn one unit folder into a plan
 * and how to apply exactly that plan. Providers live in `providers/<tool>/` and
 * the engine reaches them only through this interface.
 */
export interface Provider {
  /** The definition kinds this provider handles (`terraform`, `cdktf`, `ansible`). */
  readonly kinds: readonly string[];

  /** Checks beyond the manifest schema that need the folder (does the playbook exist?). */
  validate?(unit: UnitDefinition, unitDir: string): Promise<Problem[]>;

  /** Plan the unit; write artifacts into `artifactsDir`; never change infrastructure. */
  plan(request: PlanRequest): Promise<PlanOutcome>;

  /** Apply exactly the plan whose artifacts are in `artifactsDir`. */
  apply(request: ApplyRequest): Promise<ApplyOutcome>;

  /**
   * The unit's current outputs, read in the workspace of a plan just made. The
   * engine asks when a plan found nothing to apply, so dependants get outputs
   * even when no apply wrote them (a first plan against existing state, an
   * apply cut off after it finished).
   */
  outputs?(request: RunRequest): Promise<Record<string, OutputValue>>;
}

export interface RunRequest {
  unit: UnitDefinition;
  revision: string;
  /**
   * Writable copy of the unit folder at `revision`. Its parent folders mirror the
   * repository at that revision (read-only), so relative module paths resolve.
   */
  workdir: string;
  /** The plan's own folder: providers keep their artifacts here. */
  artifactsDir: string;
  /** The unit's private persistent folder (local Terraform state, caches). */
  unitStateDir: string;
  /** Variables to pass, resolved, secrets included (never log these). */
  vars: Record<string, unknown>;
  /** Names of `vars` that are secret. */
  sensitiveVars: readonly string[];
  signal: AbortSignal;
  log: Logger;
  /** Restrict the run to these hosts (drift remediation); all when absent. */
  limitHosts?: readonly string[];
  /**
   * An inventory's `hostsFrom`, resolved from an upstream unit's outputs: the
   * provider validates its shape and merges it with the static inventory.
   */
  inventoryHosts?: unknown;
}

export type PlanRequest = RunRequest;
export type ApplyRequest = RunRequest;

export interface PlanOutcome {
  summary: ChangeSummary;
  hasChanges: boolean;
  /** Deletes or replaces something: `auto-unless-destroy` waits for approval. */
  destructive: boolean;
  /** Normalized, masked, JSON-serializable plan (what the API serves). */
  document: unknown;
  /** Masked text for people (what `plumbline show` prints). */
  rendered: string;
  /** Stable hash of what the plan would do: part of the plan id. */
  fingerprint: string;
  /** Per-host results, for units that run against hosts. */
  hosts?: HostStatus[];
  /**
   * The unit's outputs as they stand, when the plan already holds them (a plan
   * with no changes): the engine then publishes them without asking
   * `outputs()`, which may cost a process.
   */
  outputs?: Record<string, OutputValue>;
}

/** One host's state in a plan or an apply. */
export interface HostStatus {
  name: string;
  state: HostState;
  /** Short, masked: why the host is in this state (an error, the tasks that change). */
  message?: string;
}

export interface OutputValue {
  value: unknown;
  sensitive: boolean;
}

export interface ApplyOutcome {
  outputs: Record<string, OutputValue>;
  message: string;
  /** The unit's reason after a successful apply (`Applied` when absent), e.g. `NotIdempotent`. */
  reason?: string;
  hosts?: HostStatus[];
}

/** Shared services a provider is built with. */
export interface ProviderContext {
  config: DaemonConfig;
  log: Logger;
  /**
   * Held around every `terraform init`: the plugin cache is not safe for
   * concurrent inits.
   */
  initLock: Mutex;
  /** Absolute path of Plumbline's own installation (for cdktf's bundled libraries). */
  installRoot: string;
}

export type ProviderFactory = (context: ProviderContext) => Provider;
