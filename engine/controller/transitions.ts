import { ConflictError, type ErrorCode } from '../errors.ts';
import type { ChangeSet, HistoryEvent, HistoryEventType, PlanStatus, UnitStatus } from '../model.ts';
import type { RunRecord, StoredPlan, StoreTx } from '../store/types.ts';
import type { UnitReason } from './reasons.ts';

/**
 * The one module that writes the state of units and plans. Each transition
 * runs inside a store transaction given by its caller: a unit's phase, its
 * plan's status, the history event that explains them and the runs they queue
 * land together or not at all. Nothing else writes units, plans or history.
 *
 * A plan moves only along PLAN_TRANSITIONS; asking for another move is a
 * conflict (approving a superseded plan, applying a rejected one), never a
 * silent overwrite.
 */

export const PLAN_TRANSITIONS: Readonly<Record<PlanStatus, readonly PlanStatus[]>> = {
  Pending: ['Approved', 'Rejected', 'Superseded'],
  Approved: ['Applying', 'Rejected', 'Superseded'],
  Applying: ['Applied', 'Failed', 'Interrupted'],
  Applied: [],
  NoChanges: [],
  Rejected: [],
  Superseded: [],
  Failed: [],
  Interrupted: [],
  Preview: [],
};

/** Plans that may still be applied. */
export const LIVE_PLAN_STATUSES: readonly PlanStatus[] = ['Pending', 'Approved', 'Applying'];

export type UnitPatch = Partial<Omit<UnitStatus, 'name' | 'updatedAt' | 'reason'>> & { reason?: UnitReason };

export interface EventInput {
  type: HistoryEventType;
  unit: string | null;
  revision: string | null;
  planId: string | null;
  message: string;
  startedAt?: string;
  finishedAt?: string;
  /** A decision taken through the API: the token's name and the request's address. */
  actor?: string;
  remote?: string;
}

/** Who took a decision through the API, as its history event records it (see auth/actor.ts). */
export interface Audit {
  actor: string;
  remote?: string;
}

/** The unit's record with `patch` applied (a unit never seen starts Pending). */
export async function patchUnit(tx: StoreTx, name: string, patch: UnitPatch, defaults: { kind: string; path: string }): Promise<UnitStatus> {
  const current = await tx.getUnit(name);
  const next: UnitStatus = {
    name,
    kind: current?.kind ?? defaults.kind,
    path: current?.path ?? defaults.path,
    phase: 'Pending',
    reason: 'Pending',
    message: '',
    lastAttemptedRevision: null,
    lastAppliedRevision: null,
    planId: null,
    ...current,
    ...patch,
    updatedAt: new Date().toISOString(),
  };
  // An explicit undefined removes an optional field (a drift count reset).
  for (const [key, value] of Object.entries(patch)) if (value === undefined) delete (next as unknown as Record<string, unknown>)[key];
  return tx.putUnit(next);
}

/** Move a plan to `status` (and any other fields), refusing moves the table does not allow. */
export async function movePlan(tx: StoreTx, id: string, status: PlanStatus, fields: Partial<StoredPlan> = {}): Promise<StoredPlan> {
  const plan = await tx.getPlan(id);
  if (!plan) throw new ConflictError('E_PLAN_NOT_FOUND', `no plan ${id}`, { hint: 'list plans with: plumbline plans' });
  if (plan.status !== status && !PLAN_TRANSITIONS[plan.status].includes(status)) {
    throw new ConflictError('E_PLAN_TRANSITION', `plan ${id} is ${plan.status}; it cannot become ${status}`, {
      hint: 'only a Pending plan can be approved or rejected, and only an Approved one applied',
    });
  }
  return tx.putPlan({ ...plan, ...fields, status, updatedAt: new Date().toISOString() });
}

export async function record(tx: StoreTx, event: EventInput): Promise<HistoryEvent> {
  return tx.appendHistory(event);
}

/** Queue a run; queued runs of the same unit and kind it makes pointless are dropped. */
export async function enqueue(tx: StoreTx, run: RunRecord, options: { replaces?: readonly RunRecord['kind'][] } = {}): Promise<void> {
  const replaces = options.replaces ?? [];
  if (replaces.length > 0) {
    for (const queued of await tx.listRuns({ unit: run.unit, state: 'queued' })) {
      if (replaces.includes(queued.kind)) await tx.deleteRun(queued.id);
    }
  }
  await tx.putRun(run);
}

export async function putChangeSet(tx: StoreTx, changeSet: ChangeSet): Promise<ChangeSet> {
  return tx.putChangeSet(changeSet);
}

// The named transitions. Each says which phase the unit goes to, which plan
// status, and which event explains it; callers give the transaction.

export interface UnitRef {
  name: string;
  kind: string;
  path: string;
}

const defaultsOf = (unit: UnitRef) => ({ kind: unit.kind, path: unit.path });

/** A run took a unit's plan up: Planning. */
export async function planStarted(tx: StoreTx, unit: UnitRef, revision: string, destroy: boolean): Promise<void> {
  await patchUnit(
    tx,
    unit.name,
    destroy
      ? { phase: 'Planning', reason: 'Pruning', message: `planning the destroy of what it manages (code of ${revision.slice(0, 8)})`, lastAttemptedRevision: revision }
      : { phase: 'Planning', reason: 'Planning', message: `planning ${revision.slice(0, 8)}`, lastAttemptedRevision: revision },
    defaultsOf(unit),
  );
}

/** A plan is queued behind its dependencies: Pending (waiting) or Blocked, said once per change. */
export async function waitingForDependencies(tx: StoreTx, unit: UnitRef, revision: string, blocked: boolean, message: string): Promise<void> {
  const current = await tx.getUnit(unit.name);
  const phase = blocked ? 'Blocked' : 'Pending';
  if (current?.phase === phase && current.message === message) return;
  await record(tx, { type: blocked ? 'blocked' : 'waiting', unit: unit.name, revision, planId: null, message });
  await patchUnit(tx, unit.name, { phase, reason: blocked ? 'DependencyNotReady' : 'WaitingForDependencies', message, lastAttemptedRevision: revision }, defaultsOf(unit));
}

/** A plan that failed: Failed (retried when transient), or Stalled when the commit itself is at fault. */
export async function planFailed(
  tx: StoreTx,
  unit: UnitRef,
  revision: string,
  failure: { code: ErrorCode; message: string; hint?: string; stalledReason?: UnitReason; hosts?: UnitStatus['hosts'] },
  times: { startedAt: string; finishedAt: string },
): Promise<void> {
  await record(tx, { type: 'plan-failed', unit: unit.name, revision, planId: null, message: `${failure.code}: ${failure.message}`, ...times });
  await patchUnit(
    tx,
    unit.name,
    {
      phase: failure.stalledReason ? 'Stalled' : 'Failed',
      reason: failure.stalledReason ?? 'PlanFailed',
      message: failure.hint ? `${failure.message} (hint: ${failure.hint})` : failure.message,
      planId: null,
      ...(failure.hosts ? { hosts: failure.hosts } : {}),
    },
    defaultsOf(unit),
  );
}

/** A plan recorded: Pending (it changes something) or NoChanges, with its `planned` event. */
export async function planRecorded(tx: StoreTx, unit: UnitRef, plan: StoredPlan, event: { message: string; startedAt: string }): Promise<StoredPlan> {
  const stored = await tx.putPlan(plan);
  const current = await tx.getUnit(unit.name);
  // A change planned anew: a drift seen before is judged afresh.
  if (plan.hosts || current?.driftRemediations) {
    await patchUnit(tx, unit.name, { ...(plan.hosts ? { hosts: plan.hosts } : {}), ...(plan.purpose !== 'drift' ? { driftRemediations: undefined } : {}) }, defaultsOf(unit));
  }
  await record(tx, { type: 'planned', unit: unit.name, revision: plan.revision, planId: plan.id, message: event.message, startedAt: event.startedAt, finishedAt: plan.createdAt });
  return stored;
}

/** Nothing to change: InSync at this revision. */
export async function inSync(tx: StoreTx, unit: UnitRef, plan: StoredPlan): Promise<void> {
  await patchUnit(
    tx,
    unit.name,
    { phase: 'InSync', reason: 'NoChanges', message: 'the infrastructure matches the repository', planId: plan.id, lastAppliedRevision: plan.revision },
    defaultsOf(unit),
  );
}

/** The plan waits for a person: AwaitingApproval. */
export async function awaitingApproval(tx: StoreTx, unit: UnitRef, plan: StoredPlan, reason: UnitReason, message: string, eventMessage = message): Promise<void> {
  await record(tx, { type: 'awaiting-approval', unit: unit.name, revision: plan.revision, planId: plan.id, message: eventMessage });
  await patchUnit(tx, unit.name, { phase: 'AwaitingApproval', reason, message, planId: plan.id }, defaultsOf(unit));
}

/** An automatic apply announced: it applies at `applyAt` unless rejected. */
export async function reviewWindowOpened(tx: StoreTx, unit: UnitRef, plan: StoredPlan, applyAt: Date, summary: string): Promise<StoredPlan> {
  const updated = await tx.putPlan({ ...plan, applyAt: applyAt.toISOString(), updatedAt: new Date().toISOString() });
  await record(tx, { type: 'awaiting-approval', unit: unit.name, revision: plan.revision, planId: plan.id, message: `applies at ${applyAt.toISOString()} unless rejected (${summary})` });
  await patchUnit(tx, unit.name, { phase: 'AwaitingApproval', reason: 'ReviewWindow', message: `applies automatically at ${applyAt.toISOString()} unless rejected`, planId: plan.id }, defaultsOf(unit));
  return updated;
}

/** Approved (by a person, a change set or the policy): Applying, Queued, and its apply run queued. */
export async function approved(
  tx: StoreTx,
  unit: UnitRef,
  planId: string,
  by: string,
  applyRun: RunRecord,
  options: { event: boolean; audit?: Audit | undefined },
): Promise<StoredPlan> {
  const now = new Date().toISOString();
  const plan = await movePlan(tx, planId, 'Approved', { decidedBy: by, decidedAt: now });
  if (options.event) await record(tx, { type: 'approved', unit: plan.unit, revision: plan.revision, planId, message: `approved by ${by}`, ...options.audit });
  await patchUnit(tx, unit.name, { phase: 'Applying', reason: 'Queued', message: options.event ? `apply of ${planId} queued` : 'apply queued', planId }, defaultsOf(unit));
  await enqueue(tx, applyRun);
  return plan;
}

/** Rejected: the unit waits for a new commit (Stalled), or stays Drifted when it was a remediation. */
export async function rejected(tx: StoreTx, unit: UnitRef, planId: string, by: string, reason: string | undefined, audit?: Audit): Promise<StoredPlan> {
  const now = new Date().toISOString();
  const plan = await movePlan(tx, planId, 'Rejected', { decidedBy: by, decidedAt: now });
  const message = `plan ${planId} was rejected by ${by}${reason ? `: ${reason}` : ''}; push a new commit or run plumbline sync --unit ${plan.unit} to plan again`;
  await record(tx, { type: 'rejected', unit: plan.unit, revision: plan.revision, planId, message, ...audit });
  for (const run of await tx.listRuns({ unit: plan.unit, state: 'queued' })) if (run.planId === planId) await tx.deleteRun(run.id);
  if (plan.purpose === 'drift') {
    await patchUnit(tx, unit.name, { phase: 'Drifted', reason: 'RemediationRejected', message: `${message}; the drift remains` }, defaultsOf(unit));
  } else {
    await patchUnit(tx, unit.name, { phase: 'Stalled', reason: 'PlanRejected', message }, defaultsOf(unit));
  }
  return plan;
}

/** A waiting plan made pointless by a newer commit or newer inputs. */
export async function superseded(tx: StoreTx, plan: StoredPlan, why: string, code: ErrorCode = 'E_SUPERSEDED'): Promise<void> {
  if (plan.status !== 'Pending' && plan.status !== 'Approved') return;
  await movePlan(tx, plan.id, 'Superseded', { error: { code, message: why } });
  await record(tx, { type: 'superseded', unit: plan.unit, revision: plan.revision, planId: plan.id, message: why });
  for (const run of await tx.listRuns({ unit: plan.unit, state: 'queued' })) if (run.planId === plan.id) await tx.deleteRun(run.id);
}

/** The apply begins: the plan is Applying on disk before anything runs, so a crash leaves evidence. */
export async function applyStarted(tx: StoreTx, unit: UnitRef, plan: StoredPlan, startedAt: string, worker: string): Promise<StoredPlan> {
  const applying = await movePlan(tx, plan.id, 'Applying', { worker });
  await patchUnit(tx, unit.name, { phase: 'Applying', reason: 'Applying', message: `applying plan ${plan.id}`, planId: plan.id }, defaultsOf(unit));
  await record(tx, { type: 'apply-started', unit: plan.unit, revision: plan.revision, planId: plan.id, message: 'apply started', startedAt });
  return applying;
}

/** Applied: InSync at the plan's revision (or Planning, when a newer plan is queued). */
export async function applied(
  tx: StoreTx,
  unit: UnitRef,
  plan: StoredPlan,
  result: { message: string; reason: UnitReason; hosts?: UnitStatus['hosts']; managed?: string[]; newerQueued: boolean },
  times: { startedAt: string; finishedAt: string },
): Promise<void> {
  await movePlan(tx, plan.id, 'Applied', { ...(result.hosts ? { hosts: result.hosts } : {}), ...(result.managed ? { managed: result.managed } : {}) });
  await record(tx, { type: plan.purpose === 'drift' ? 'remediated' : 'applied', unit: plan.unit, revision: plan.revision, planId: plan.id, message: result.message, ...times });
  await patchUnit(
    tx,
    unit.name,
    {
      phase: result.newerQueued ? 'Planning' : 'InSync',
      reason: result.newerQueued ? 'Queued' : result.reason,
      message: result.message,
      lastAppliedRevision: plan.revision,
      ...(result.hosts ? { hosts: result.hosts } : {}),
    },
    defaultsOf(unit),
  );
}

/** The apply failed: Failed (PlanStale when the state moved under the plan). */
export async function applyFailed(
  tx: StoreTx,
  unit: UnitRef,
  plan: StoredPlan,
  failure: { code: ErrorCode; message: string; hint?: string; hosts?: UnitStatus['hosts']; unitHosts?: UnitStatus['hosts'] },
  times: { startedAt: string; finishedAt: string },
): Promise<void> {
  const error = { code: failure.code, message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}) };
  await movePlan(tx, plan.id, 'Failed', { error, ...(failure.hosts ? { hosts: failure.hosts } : {}) });
  await record(tx, { type: 'apply-failed', unit: plan.unit, revision: plan.revision, planId: plan.id, message: `${failure.code}: ${failure.message}`, ...times });
  await patchUnit(
    tx,
    unit.name,
    {
      phase: 'Failed',
      reason: failure.code === 'E_PLAN_STALE' ? 'PlanStale' : 'ApplyFailed',
      message: failure.hint ? `${failure.message} (hint: ${failure.hint})` : failure.message,
      ...(failure.unitHosts ? { hosts: failure.unitHosts } : {}),
    },
    defaultsOf(unit),
  );
}

/** An apply cut off (a daemon stop, a lost worker, a result that could not be written): planned again, never applied blindly. */
export async function interrupted(tx: StoreTx, plan: StoredPlan, why: string): Promise<void> {
  await movePlan(tx, plan.id, 'Interrupted', { error: { code: 'E_INTERRUPTED', message: `${why}; the unit is planned again` } });
  await record(tx, { type: 'interrupted', unit: plan.unit, revision: plan.revision, planId: plan.id, message: why });
}

/** A definition with problems: Stalled, every problem listed; the event only when the problems changed. */
export async function definitionInvalid(tx: StoreTx, unit: UnitRef, revision: string, message: string): Promise<void> {
  const previous = await tx.getUnit(unit.name);
  if (previous?.message !== message) await record(tx, { type: 'definition-invalid', unit: unit.name, revision, planId: null, message });
  await patchUnit(tx, unit.name, { phase: 'Stalled', reason: 'InvalidDefinition', message, lastAttemptedRevision: revision }, defaultsOf(unit));
}

/** Removed from the repository without prune: Orphaned, its state kept. */
export async function orphaned(tx: StoreTx, unit: UnitRef, revision: string | null, message: string): Promise<void> {
  await record(tx, { type: 'orphaned', unit: unit.name, revision, planId: null, message });
  await patchUnit(tx, unit.name, { phase: 'Orphaned', reason: 'RemovedFromSource', message }, defaultsOf(unit));
}

/** A pruned unit, destroyed or with nothing to destroy: its record goes, its history stays. */
export async function pruned(tx: StoreTx, unit: string, message: string): Promise<void> {
  await record(tx, { type: 'pruned', unit, revision: null, planId: null, message });
  for (const run of await tx.listRuns({ unit })) await tx.deleteRun(run.id);
  await tx.deleteUnit(unit);
}

/** A fact about the unit without a change of phase (a drift check's time, a message). */
export async function noted(tx: StoreTx, unit: UnitRef, patch: Omit<UnitPatch, 'phase' | 'reason'>): Promise<void> {
  await patchUnit(tx, unit.name, patch, defaultsOf(unit));
}

/** A drift found: Drifted, with its plan. */
export async function driftDetected(tx: StoreTx, unit: UnitRef, plan: StoredPlan, message: string, extra: { lastDriftCheckAt: string; hosts?: UnitStatus['hosts']; startedAt: string }): Promise<StoredPlan> {
  const stored = await tx.putPlan(plan);
  await record(tx, { type: 'drift-detected', unit: unit.name, revision: plan.revision, planId: plan.id, message, startedAt: extra.startedAt, finishedAt: extra.lastDriftCheckAt });
  await patchUnit(
    tx,
    unit.name,
    { phase: 'Drifted', reason: 'DriftDetected', message, planId: plan.id, lastDriftCheckAt: extra.lastDriftCheckAt, ...(extra.hosts ? { hosts: extra.hosts } : {}) },
    defaultsOf(unit),
  );
  return stored;
}

/** The drift is gone: InSync again. */
export async function driftGone(tx: StoreTx, unit: UnitRef, revision: string, at: string, hosts: UnitStatus['hosts'] | undefined, startedAt: string): Promise<void> {
  await record(tx, { type: 'drift-checked', unit: unit.name, revision, planId: null, message: 'no drift any more', startedAt, finishedAt: at });
  await patchUnit(
    tx,
    unit.name,
    { phase: 'InSync', reason: 'NoDrift', message: 'no drift: the infrastructure matches the repository again', lastDriftCheckAt: at, driftRemediations: undefined, ...(hosts ? { hosts } : {}) },
    defaultsOf(unit),
  );
}

/** The same drift came back after remediations: Stalled, naming what keeps coming back. */
export async function driftPersists(tx: StoreTx, unit: UnitRef, plan: StoredPlan, message: string): Promise<void> {
  await record(tx, { type: 'drift-detected', unit: unit.name, revision: plan.revision, planId: plan.id, message });
  await patchUnit(tx, unit.name, { phase: 'Stalled', reason: 'DriftPersists', message, planId: plan.id }, defaultsOf(unit));
}

/** A drift check that could not run: the phase stays, the message says what failed. */
export async function driftCheckFailed(tx: StoreTx, unit: UnitRef, revision: string, failure: { code: ErrorCode; message: string }, times: { startedAt: string; finishedAt: string }): Promise<void> {
  await record(tx, { type: 'drift-checked', unit: unit.name, revision, planId: null, message: `drift check failed: ${failure.code}: ${failure.message}`, ...times });
  await patchUnit(tx, unit.name, { message: `drift check failed: ${failure.message}`, lastDriftCheckAt: times.finishedAt }, defaultsOf(unit));
}

/**
 * A merge-request preview planned: the plan is kept (status `Preview`, never
 * approved or applied) and the unit's own record is left as it is: a branch
 * that is not merged says nothing about the unit.
 */
export async function previewRecorded(tx: StoreTx, plan: StoredPlan): Promise<StoredPlan> {
  if (plan.status !== 'Preview' || !plan.preview) throw new ConflictError('E_PLAN_TRANSITION', `plan ${plan.id} is not a preview`, { hint: 'this is a bug in Plumbline: please report it' });
  return tx.putPlan(plan);
}

/** A ref's previews are gone (the ref was deleted, or a newer head supersedes them): their plans go with them. */
export async function previewsRemoved(tx: StoreTx, planIds: readonly string[]): Promise<void> {
  for (const id of planIds) {
    const plan = await tx.getPlan(id);
    if (plan?.status === 'Preview') await tx.deletePlan(id);
  }
}
