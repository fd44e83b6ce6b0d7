/**
 * Every reason a unit can show, with what it means: the type scripts and the
 * API rely on, and the table docs/reconcile.md prints (generated from here:
 * `npm run docs`, checked by a test). A reason is one CamelCase word a script
 * can match; the unit's message says the rest.
 */
export const UNIT_REASONS = {
  Pending: 'known, never reconciled yet',
  Queued: 'a plan or an apply is queued',
  Planning: 'a plan is running',
  Pruning: 'removed with prune: true: the destroy of what it manages is being planned',
  WaitingForDependencies: 'waits for its dependencies to be applied at their newest commit',
  DependencyNotReady: 'a dependency failed, is invalid or was rejected (Blocked)',
  ApprovalRequired: 'the plan waits for a person (manual, or auto-unless-destroy and it destroys something)',
  GuardExceeded: 'the plan passes guard.maxDestroy or guard.maxHosts: it waits for a person whatever the policy',
  PruneApprovalRequired: 'the destroy of a unit removed with prune: true waits for a person',
  ReviewWindow: 'the plan applies when its review window ends unless rejected',
  Applying: 'the plan is being applied',
  Applied: 'the last plan was applied',
  NoChanges: 'the last plan found nothing to change',
  Converged: 'applied to hosts, and a second check finds nothing left to change',
  PartiallyConverged: 'applied to the reachable hosts and converged there; some hosts were unreachable',
  NotIdempotent: 'applied, but a second check still finds changes (each host => task is named)',
  NoReachableHosts: 'no host could be reached: nothing was applied',
  PlanFailed: 'the plan failed (its error and hint are in the message)',
  ApplyFailed: 'the apply failed (its error and hint are in the message)',
  PlanStale: 'the state changed since the plan was made: the unit is planned again',
  Interrupted: 'a run was cut off (a daemon stop, a lost worker, a store write that failed): the unit is planned again',
  PlanRejected: 'a person rejected the plan: a new commit or plumbline sync --unit plans again',
  InvalidDefinition: 'the definition has problems (each is listed as file:line:col)',
  InputOutsideRepository: 'a file the unit reads is a symlink leading outside the repository',
  DriftDetected: 'a drift check found differences from Git',
  NoDrift: 'a drift check found the infrastructure matching Git again',
  RemediationRejected: 'a person rejected the remediation of a drift: the drift remains',
  DriftPersists: 'the same drift came back after two remediations: remediation stopped',
  RemovedFromSource: 'the definition was removed from the repository: what it manages is kept (Orphaned)',
} as const;

export type UnitReason = keyof typeof UNIT_REASONS;

/** Reasons an apply reports beside `Applied` (tools that converge hosts). */
export type ApplyReason = Extract<UnitReason, 'Applied' | 'Converged' | 'PartiallyConverged' | 'NotIdempotent' | 'NoReachableHosts'>;

/** Reasons of the source (the watched branch). */
export const SOURCE_REASONS = {
  NotFetched: 'the source has not been fetched yet',
  Reconciled: 'the newest commit was reconciled',
  FetchFailed: 'the last fetch failed (the message says why); the next poll tries again',
  HistoryRewritten: 'the branch no longer descends from the last reconciled commit: nothing is applied until plumbline sync --allow-rewrite',
  UntrustedCommit: 'a commit is unsigned or signed by a key not trusted (source.verify): nothing of it is planned',
  VerificationFailed: 'the signatures of new commits could not be checked (the message says why); the next poll tries again',
} as const;

export type SourceReason = keyof typeof SOURCE_REASONS;

/** The table docs/reconcile.md holds, in Markdown. */
export function reasonsMarkdown(): string {
  const rows = (table: Record<string, string>) => Object.entries(table).map(([reason, meaning]) => `| \`${reason}\` | ${meaning} |`);
  return ['| unit reason | meaning |', '| --- | --- |', ...rows(UNIT_REASONS), '', '| source reason | meaning |', '| --- | --- |', ...rows(SOURCE_REASONS)].join('\n');
}
