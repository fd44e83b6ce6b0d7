/**
 * The records Plumbline keeps and serves. The API returns them as they are, so
 * these types are the public contract of `status`, `plans` and `history`.
 */

export type Phase =
  | 'Pending' // known, never reconciled yet
  | 'Planning'
  | 'AwaitingApproval'
  | 'Applying'
  | 'InSync'
  | 'Failed'
  | 'Stalled'
  | 'Drifted'
  | 'Blocked'
  /** Its definition was removed from the repository; what it manages is kept (no `prune`). */
  | 'Orphaned';

export type PlanStatus =
  | 'Pending'
  | 'Approved'
  | 'Applying'
  | 'Applied'
  | 'Rejected'
  | 'Superseded'
  | 'Failed'
  | 'Interrupted'
  /** Planned and found nothing to do: never waits, never applies. */
  | 'NoChanges'
  /** A merge-request preview: planned from a branch that is not merged; never approved, never applied. */
  | 'Preview';

export type ApprovalPolicy = 'auto' | 'manual' | 'auto-unless-destroy';
export const APPROVAL_POLICIES: readonly ApprovalPolicy[] = ['auto', 'manual', 'auto-unless-destroy'];

export interface ChangeSummary {
  add: number;
  change: number;
  destroy: number;
  replace: number;
}

export interface UnitStatus {
  name: string;
  kind: string;
  /** Folder of the definition inside the watched repository. */
  path: string;
  phase: Phase;
  /** A CamelCase word a script can match (PlanFailed, ApprovalRequired...). */
  reason: string;
  message: string;
  lastAttemptedRevision: string | null;
  lastAppliedRevision: string | null;
  planId: string | null;
  updatedAt: string;
  /** Per-host state of the last plan or apply, for units that run against hosts. */
  hosts?: Array<{ name: string; state: HostState; message?: string }>;
  lastDriftCheckAt?: string;
  /**
   * The drift consecutive checks found and remediated, and how many times: the
   * same drift after the second remediation stalls the unit (`DriftPersists`).
   */
  driftRemediations?: { drift: string; count: number };
}

export type HostState = 'ok' | 'changed' | 'unknown' | 'unreachable' | 'failed' | 'skipped';

export interface PlanRecord {
  id: string;
  unit: string;
  kind: string;
  revision: string;
  status: PlanStatus;
  summary: ChangeSummary;
  hasChanges: boolean;
  /** Deletes or replaces something (hosts: see the Ansible provider). */
  destructive: boolean;
  approval: ApprovalPolicy;
  /** When an automatic apply may start (review window); null when it waits for a person. */
  applyAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Who approved or rejected it and when; approvals never need a commit. */
  decidedBy?: string;
  decidedAt?: string;
  /** The last error, masked. */
  error?: { code: string; message: string; hint?: string };
  /** Hash of the inputs (definition, folder content, variables) the plan was made from. */
  inputsHash: string;
  /** Per-host state in this plan, for units that run against hosts. */
  hosts?: Array<{ name: string; state: HostState; message?: string }>;
  /** The change set (everything one commit set in motion) this plan belongs to. */
  changeSet?: string;
  /**
   * `drift`: made by a drift check of the last applied commit; applying it remediates.
   * `destroy`: the unit was removed with `prune: true`; applying it destroys what it managed.
   */
  purpose?: 'change' | 'drift' | 'destroy';
  /** For drift plans: what the unit's drift policy does with it (`report` waits for a person). */
  driftAction?: 'report' | 'remediate';
  /**
   * What the apply is limited to (`RunRequest.targets`: a remediation touches
   * only the drifted hosts). Records written before it had this name say
   * `limitHosts`; the store reads them as `targets`.
   */
  targets?: string[];
  /** The daemon (cluster member) that applied it. */
  worker?: string;
  /** Steps the tool cannot predict (Ansible tasks check mode skips): shown apart, never counted in `summary`. */
  uncertain?: number;
  /** Warnings the tool printed while planning, masked. */
  warnings?: string[];
  /** A preview plan (status `Preview`): the ref it previews (`refs/heads/feature`, `refs/pull/7/head`). */
  preview?: { ref: string };
}

/**
 * Everything one commit sets in motion: the units it touched, and the
 * dependants planned again because an upstream's outputs changed.
 */
export interface ChangeSet {
  id: string;
  revision: string;
  createdAt: string;
  units: string[];
  /** Approving a change set approves its pending plans and pre-approves later non-destructive ones. */
  approvedBy?: string;
  approvedAt?: string;
}

export type HistoryEventType =
  | 'planned'
  | 'plan-failed'
  | 'approved'
  | 'rejected'
  | 'superseded'
  | 'apply-started'
  | 'applied'
  | 'apply-failed'
  | 'interrupted'
  | 'source-stalled'
  | 'definition-invalid'
  | 'waiting'
  | 'blocked'
  | 'changeset-approved'
  | 'awaiting-approval'
  | 'drift-checked'
  | 'drift-detected'
  | 'remediated'
  | 'orphaned'
  | 'pruned'
  // Decisions taken through the API, each naming the token that took it (`actor`).
  | 'sync-requested'
  | 'rewrite-allowed'
  | 'drift-requested'
  | 'token-created'
  | 'token-revoked';

export interface HistoryEvent {
  seq: number;
  at: string;
  type: HistoryEventType;
  unit: string | null;
  revision: string | null;
  planId: string | null;
  message: string;
  /** Start and end of the run this event closes, for reading overlaps and durations. */
  startedAt?: string;
  finishedAt?: string;
  /** A decision taken through the API: the name of the token that took it (never a name the caller wrote). */
  actor?: string;
  /** ... and the address the request came from (the socket's peer: a proxy's, behind one). */
  remote?: string;
}

export interface SourceStatus {
  url: string;
  branch: string;
  phase: 'Ready' | 'Stalled' | 'Pending';
  reason: string;
  message: string;
  lastFetchedRevision: string | null;
  /** The newest head whose affected units were scheduled. */
  lastReconciledRevision: string | null;
  lastFetchAt: string | null;
  fetchCount: number;
}

export const EMPTY_SUMMARY: ChangeSummary = { add: 0, change: 0, destroy: 0, replace: 0 };
