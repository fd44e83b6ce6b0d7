import type { z } from 'zod';
import type { DaemonConfig } from './config/types.ts';
import type { RawMapping, VariableNames } from './definitions/manifest-fields.ts';
import type { UnitDefinition } from './definitions/types.ts';
import type { UnitFolder } from './definitions/unit-paths.ts';
import type { ApplyReason } from './controller/reasons.ts';
import type { ErrorCodeTable, Problem } from './errors.ts';
import type { Logger } from './log.ts';
import type { ChangeSummary, HostState } from './model.ts';
import type { ProblemCollector } from './yaml/problems.ts';

/**
 * The seam between the engine and each tool. The engine knows units, revisions,
 * plans and policies; a provider knows its kind of unit: the manifest fields
 * and settings of its tool, how to turn one unit folder into a plan and how to
 * apply exactly that plan. Providers live in `providers/<tool>/`, the engine
 * reaches them only through this contract, and they reach the engine only
 * through `engine/provider-kit.ts` (see docs/providers.md).
 */

/**
 * What a provider exports: everything tool-specific about one kind of unit.
 * `kind`, `manifest` and `settings` are read when definitions and the daemon
 * config are loaded, so the module that declares them stays light; the tool's
 * code loads only when `create` builds the provider.
 */
export interface ProviderModule<Spec = unknown, Settings = unknown> {
  /** The `kind:` of the units it handles (`terraform`, `cdktf`, `ansible`). */
  readonly kind: string;
  /** The manifest its units are written in, its own fields there, and how they are read. */
  readonly manifest: ManifestPart<Spec>;
  /** Its section of plumbline.yaml, when it has one (cdktf runs with Terraform's). */
  readonly settings?: SettingsPart<Settings>;
  /**
   * The error codes it raises that the engine does not own, documented
   * (docs/errors.md lists them). It merges them into `ErrorCodeRegistry` with
   * `declare module` on engine/errors.ts, so they type-check where raised.
   */
  readonly errorCodes?: ErrorCodeTable;
  /** Builds the provider the daemon plans and applies with (once per daemon). */
  create(context: ProviderContext): Promise<Provider>;
}

/**
 * One manifest and the units written in it (a `stack.yaml` in a folder under `stacks/`).
 * Kinds that share a manifest share one of these (Terraform and CDKTF stacks);
 * the fields common to every unit (name, kind, vars, approval, applyAfter,
 * dependsOn, drift, watch, prune, guard) are the engine's.
 */
export interface ManifestFile {
  /** The unit type, in messages and `UnitDefinition.type` (`stack`, `inventory`). */
  readonly type: string;
  /** The top folder its units live under, at any depth (`stacks`). */
  readonly folder: string;
  /** The manifest's file name in a unit folder (`stack.yaml`). */
  readonly fileName: string;
  /** The kind of a manifest that has no `kind:` (an inventory is Ansible); without it, `kind:` is required. */
  readonly defaultKind?: string;
  /** Names `vars` (and `secretVars`) accept, and that rule in words (`letters, digits and "_"`). */
  readonly variableNames: VariableNames;
  /** Can units name secret variables (`secretVars`), read on the control host at run time? */
  readonly secretVars: boolean;
}

/** A kind's part of its manifest. */
export interface ManifestPart<Spec = unknown> {
  readonly file: ManifestFile;
  /**
   * The kind's own fields and their shapes, in the order an unknown field
   * lists them. Every kind of a manifest may write them (a check of `read`
   * refuses another kind's field with a message that says why).
   */
  readonly fields: Readonly<Record<string, z.ZodType>>;
  /**
   * Checks the kind's fields against the unit folder (a path must exist and
   * stay inside the repository) and returns the unit's spec, the provider's
   * own type that `UnitDefinition.spec` then holds. The engine has already
   * checked every field's shape; these checks read the raw document, so they
   * run (and report to `report`, at the field's line) even when another field
   * is wrong. `parsed` is the whole manifest as its schema parsed it, or
   * undefined when some field is wrong: then the spec is not used, and
   * undefined may be returned.
   */
  read(input: ManifestInput): Promise<Spec | undefined>;
}

/** What `ManifestPart.read` is given: the manifest of a unit of its kind (or of the default kind, when `kind:` is missing or names another manifest's). */
export interface ManifestInput {
  /** The document as written. */
  raw: RawMapping;
  /** The document as the manifest's schema parsed it; undefined when a field is wrong. */
  parsed: RawMapping | undefined;
  /** The unit folder: paths a field names resolve against it (`resolveInUnit`). */
  folder: UnitFolder;
  /** Where problems go, placed at the field they name. */
  report: ProblemCollector;
}

/** A provider's section of plumbline.yaml (`ansible:`). */
export interface SettingsPart<Settings = unknown> {
  /** The section's key; the loader lists it among the top-level keys. */
  readonly key: string;
  /** The section's fields and their shapes, in the order an unknown field lists them. */
  readonly fields: Readonly<Record<string, z.ZodType>>;
  /** Duration fields with a lower bound (a timeout of zero would fail every run), in ms. */
  readonly minimums?: Readonly<Record<string, number>>;
  /** The settings when the config says nothing (and for configs built in code). */
  readonly defaults: Settings;
  /**
   * The settings from the section as its schema parsed it (`{}` when absent),
   * every default filled in. Relative paths are relative to `base`, the
   * config file's folder.
   */
  normalize(section: RawMapping, base: string): Settings;
}

/**
 * What plans and applies one kind of unit, built by `ProviderModule.create`.
 */
export interface Provider {
  /**
   * Can plan the destruction of what a unit manages (`RunRequest.destroy`).
   * Without it, a pruned unit is forgotten: there is nothing it keeps state of.
   */
  readonly canDestroy?: boolean;

  /**
   * Checks beyond the manifest schema that need the folder (does the playbook
   * exist? is every `vars` entry a declared variable?). A problem about a
   * manifest field names it in `field` (`['vars', 'enviroment']`) with the
   * manifest as `file`; the engine finds its line. The daemon calls this on
   * every unit a commit plans with `processes: false` (static checks only);
   * `plumbline validate` allows processes (a syntax check by the tool).
   */
  validate?(unit: UnitDefinition, unitDir: string, options?: ValidateOptions): Promise<Problem[]>;

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

  /**
   * The repository paths a unit reads beyond its own folder (which the engine
   * always counts): local modules, roles, playbooks, vars files, configs. A
   * commit that touches any of them plans the unit again. Static analysis of
   * the repository at one revision: no tool process, no network.
   */
  reads?(request: ReadsRequest): Promise<ReadSet>;

  /**
   * Entries of a unit's state folder (`RunRequest.unitStateDir`) that hold
   * only caches, never state: `plumbline plan` keeps them between its runs
   * against an empty state (Terraform's data dir), and removes the rest.
   */
  readonly stateDirCaches?: readonly string[];
}

export interface ValidateOptions {
  /** The repository at the revision being validated. */
  repoDir: string;
  /** May the check start tool processes (syntax checks)? */
  processes: boolean;
}

export interface ReadsRequest {
  unit: UnitDefinition;
  /** The repository at one revision, read-only (a snapshot or a checkout). */
  repoDir: string;
  log: Logger;
}

/** One path a unit reads. */
export interface ReadEntry {
  /**
   * Repository-relative, forward slashes, no trailing slash. A folder covers
   * everything below it. Need not exist: a file that would be read if it
   * appeared (a repository-root `ansible.cfg`, a role not written yet) counts.
   */
  path: string;
  /** Why, for `plumbline why` (`module "vpc" in stacks/prod/vpc/main.tf:12`). */
  why: string;
}

export interface ReadSet {
  entries: ReadEntry[];
  /**
   * What could not be followed statically (a module source built from a
   * variable, a role name from a variable): shown by `plumbline why` so the
   * user can add a `watch:` glob. Never an error.
   */
  notes?: string[];
}

export interface RunRequest {
  unit: UnitDefinition;
  revision: string;
  /**
   * Writable copy of the unit folder at `revision`. Its parent folders mirror the
   * repository at that revision (read-only), so relative module paths resolve.
   */
  workdir: string;
  /**
   * The read-only repository at `revision` that the workspace links into
   * (files outside the unit folder resolve there). Paths under it, or under
   * the workspace tree, are shown to people repository-relative
   * (`repoRelativeText` in engine/paths.ts).
   */
  repoDir: string;
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
  /**
   * Restrict the run to these targets (hosts for Ansible: a remediation of
   * the drifted hosts only); all when absent.
   */
  targets?: readonly string[];
  /**
   * Plan the destruction of everything the unit manages (its folder was
   * removed from the repository and it has `prune: true`); the workspace holds
   * the code of its last applied revision. Only for providers with `canDestroy`.
   */
  destroy?: boolean;
  /**
   * A preview: a speculative plan of a branch's code, never applied, that
   * readers trust not to disturb the watched branch's runs. The engine hands
   * it a copy of the unit's state folder; state the tool keeps elsewhere (a
   * remote backend) the provider must only read, never lock nor write
   * (Terraform: `plan -lock=false`). Plans only.
   */
  preview?: boolean;
  /**
   * `unit.spec` with every `{fromOutput: ...}` in it replaced by the upstream
   * output it names (an inventory's `hostsFrom`); the provider validates what
   * it finds there. Equal to `unit.spec` when the spec holds no reference.
   */
  resolvedSpec: unknown;
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
   * Changes the tool cannot predict (Ansible tasks that check mode skips,
   * `host => task`): shown apart from `hasChanges`, never counted in it. The
   * engine decides what they mean: a change plan applies them (what the unit
   * reads changed), a drift check ignores them unless the unit's
   * `drift.unknownTasks` is `report`.
   */
  uncertain?: string[];
  /**
   * Short names of what would change (resource addresses, `host => task`),
   * masked: a drift that keeps coming back after remediation is named by these.
   */
  changes?: string[];
  /** Warnings the tool printed (Terraform diagnostics of severity warning), masked. */
  warnings?: string[];
  /**
   * What the unit manages once this plan is applied (resource addresses,
   * hosts): listed when its folder is removed from the repository.
   */
  managed?: string[];
  /**
   * The unit's outputs as they stand, when the plan already holds them (a plan
   * with no changes): the engine then publishes them without asking
   * `outputs()`, which may cost a process.
   */
  outputs?: Record<string, OutputValue>;
  /**
   * The outputs the plan expects once applied, when it has changes: a value
   * absent (`value` undefined) is known only after the apply. Previews plan
   * the dependants of a changed unit with these.
   */
  plannedOutputs?: Record<string, OutputValue>;
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
  reason?: ApplyReason;
  hosts?: HostStatus[];
  /** What the unit manages after this apply (see PlanOutcome.managed); the plan's list when absent. */
  managed?: string[];
}

/** Shared services a provider is built with. */
export interface ProviderContext {
  /** The daemon config; a provider's own section is `settingsOf(config, part)` (engine/provider-kit.ts). */
  config: DaemonConfig;
  log: Logger;
  /** Absolute path of Plumbline's own installation (for cdktf's bundled libraries). */
  installRoot: string;
  /**
   * When daemons share a PostgreSQL store, tools that keep state of their
   * own keep it in that database too (Terraform's `pg` backend), so any
   * member can run any unit. Absent with an embedded store.
   */
  sharedState?: SharedState;
}

export interface SharedState {
  /** The store's URL, without its password. */
  postgresUrl: string;
  /** Given to the tool in its environment (PGPASSWORD), never written to a file. */
  password?: string;
}

export type ProviderFactory = (context: ProviderContext) => Provider;
