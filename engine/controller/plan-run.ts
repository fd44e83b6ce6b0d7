import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findEscapingLinks } from '../definitions/escaping-links.ts';
import type { UnitDefinition } from '../definitions/types.ts';
import { type ErrorCode, PlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { EMPTY_SUMMARY } from '../model.ts';
import { runPaths } from '../paths.ts';
import type { OutputValue, PlanOutcome, RunRequest } from '../provider.ts';
import { secrets } from '../secrets.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import type { RunRecord, StoredPlan, StoreTx } from '../store/types.ts';
import { createWorkspace } from '../workspace.ts';
import { hostsOf } from './hosts.ts';
import { outputsFromStore, putOutputs, resolveInputs, type OutputsReader, type ResolvedInputs } from './inputs.ts';
import { planId } from './plan-id.ts';
import { decide, type PlanDecision } from './policy.ts';
import type { UnitReason } from './reasons.ts';
import { newRun, retryAt } from './runs.ts';
import type { Runtime } from './runtime.ts';
import { step, unwrap } from './steps.ts';
import * as t from './transitions.ts';
import { removePrunedUnitFolders } from './unit-folders.ts';

/** What the steps up to the provider's plan produce: shared by change plans, drift checks and destroys. */
export interface Prepared {
  runId: string;
  runDir: string;
  snapshotDir: string;
  inputs: ResolvedInputs;
  request: RunRequest;
  outcome: PlanOutcome;
  startedAt: string;
  log: Logger;
}

/**
 * Errors in what the commit holds (not in how the tool ran): the unit is
 * Stalled until a commit fixes it, with a reason of its own.
 */
const STALLING_CODES: Readonly<Partial<Record<ErrorCode, UnitReason>>> = {
  E_INPUT_OUTSIDE_REPOSITORY: 'InputOutsideRepository',
  E_UNDECLARED_VARIABLE: 'InvalidDefinition',
};

export interface PrepareOptions {
  destroy?: boolean;
  runId?: string;
  /** What the unit reads at `revision` (the stored reads of the watched branch otherwise). */
  reads?: string[];
  /** Where the upstream outputs come from (the applied ones in the store otherwise). */
  outputs?: OutputsReader;
  /** A state folder other than the unit's own (a preview plans against a copy). */
  unitStateDir?: string;
  /** A preview's plan (`RunRequest.preview`): the real state is only read, never locked. */
  preview?: boolean;
}

/** snapshot, workspace, confine, inputs, plan: the provider plans the unit in a workspace of its own. */
export async function prepare(rt: Runtime, unit: UnitDefinition, revision: string, signal: AbortSignal, options: PrepareOptions = {}): Promise<Prepared> {
  const runId = options.runId ?? newRunId();
  const runDir = rt.paths.run(runId);
  const log = rt.log.child({ unit: unit.name, revision, run: runId });
  const startedAt = new Date().toISOString();
  rt.activeRuns.add(runId);
  try {
    const snapshotDir = await step(log, 'snapshot', () => rt.source.snapshot(revision));
    const reads = options.reads ?? (await rt.store.getReads(unit.name))?.entries.map((e) => e.path) ?? [unit.path];
    const workdir = await step(log, 'workspace', async () => {
      await mkdir(runPaths(runDir).artifacts, { recursive: true, mode: 0o700 });
      return createWorkspace({ snapshotDir, unitPath: unit.path, treeDir: runPaths(runDir).tree, immutableSnapshot: true, reads });
    });
    await step(log, 'confine', async () => {
      // Nothing a run reads may come from outside the repository through a committed symlink.
      const escaping = await findEscapingLinks(snapshotDir, reads);
      if (escaping.length > 0) {
        throw new PlumblineError(
          'E_INPUT_OUTSIDE_REPOSITORY',
          `${escaping.map((l) => `${l.path} is a symlink to ${l.target}`).join('; ')}: outside the repository, so ${unit.name} is not run`,
          { retry: 'stalled', hint: 'commit the file itself instead of a link to it, or a link that stays inside the repository' },
        );
      }
    });
    const inputs = await step(log, 'inputs', () => resolveInputs(unit, revision, options.outputs ?? outputsFromStore(rt.store)));
    const request: RunRequest = {
      unit,
      revision,
      workdir,
      repoDir: snapshotDir,
      artifactsDir: runPaths(runDir).artifacts,
      unitStateDir: options.unitStateDir ?? rt.paths.unitState(unit.name),
      vars: inputs.vars,
      sensitiveVars: inputs.sensitiveVars,
      resolvedSpec: inputs.resolvedSpec,
      signal,
      log,
      ...(options.destroy ? { destroy: true } : {}),
      ...(options.preview ? { preview: true } : {}),
    };
    const outcome = await step(log, 'plan', async () => {
      await mkdir(request.unitStateDir, { recursive: true, mode: 0o700 });
      return rt.provider(unit.kind).plan(request);
    });
    return { runId, runDir, snapshotDir, inputs, request, outcome, startedAt, log };
  } catch (error) {
    rt.activeRuns.delete(runId);
    await rm(runDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A change plan (or a pruned unit's destroy) of one queued run, to its recorded
 * decision. Returns the apply run the policy approved, already claimed by this
 * member in the transaction that recorded the plan: it runs next in the same
 * slot, without a trip through the queue. `startedAs`: the definition whose
 * start (the unit Planning) the transaction that claimed the run recorded.
 */
export async function runPlanJob(rt: Runtime, run: RunRecord, signal: AbortSignal, startedAs?: UnitDefinition): Promise<RunRecord | undefined> {
  const destroy = run.kind === 'destroy';
  const unit = startedAs ?? (destroy ? await rt.definitionAt(run.unit, run.revision) : rt.definition(run.unit));
  if (!unit) {
    await rt.commitRun(run, (tx) => tx.deleteRun(run.id));
    return undefined;
  }
  const startedAt = new Date().toISOString();
  if (!startedAs) await rt.commitRun(run, (tx) => t.planStarted(tx, unit, run.revision, destroy));
  let prepared: Prepared | undefined;
  try {
    prepared = await prepare(rt, unit, run.revision, signal, { destroy });
    return await record(rt, run, unit, prepared);
  } catch (error) {
    if (signal.aborted) {
      await cancelled(rt, run, String(signal.reason ?? 'cancelled'));
      return undefined;
    }
    const typed = unwrap(error);
    if (typed.code === 'E_FENCED') {
      rt.log.warn({ unit: unit.name }, 'the plan was taken over by another member: its result is not recorded here');
      return undefined;
    }
    rt.log.warn({ unit: unit.name, code: typed.code }, 'plan failed');
    const stalledReason = STALLING_CODES[typed.code];
    const hosts = hostsOf(typed);
    await rt.commitRun(run, async (tx) => {
      await t.planFailed(
        tx,
        unit,
        run.revision,
        { code: typed.code, message: typed.message, ...(typed.hint ? { hint: typed.hint } : {}), ...(stalledReason ? { stalledReason } : {}), ...(hosts ? { hosts } : {}) },
        { startedAt, finishedAt: new Date().toISOString() },
      );
      await tx.deleteRun(run.id);
      if (typed.retry !== 'stalled' && !stalledReason) await retry(tx, run);
    });
    return undefined;
  } finally {
    if (prepared) rt.activeRuns.delete(prepared.runId);
  }
}

/**
 * A run cut off: by a newer commit (whose run is queued), or by the daemon
 * stopping (the run goes back to the queue, and the next start plans again).
 */
export async function cancelled(rt: Runtime, run: RunRecord, why: string): Promise<void> {
  rt.log.info({ unit: run.unit, kind: run.kind, reason: why }, 'run cancelled');
  await rt.commitRun(run, async (tx) => {
    if (rt.isStopping()) await tx.putRun({ ...run, state: 'queued' });
    else await tx.deleteRun(run.id);
  });
}

/** A transient failure is tried again later, backing off; the newest commit's run always wins. */
export async function retry(tx: StoreTx, run: RunRecord): Promise<void> {
  const attempt = run.attempt + 1;
  await t.enqueue(tx, newRun(run.kind === 'apply' ? 'plan' : run.kind, run.unit, run.revision, { attempt, notBefore: retryAt(attempt), reason: `retry ${attempt} after a transient failure`, ...(run.changeSet ? { changeSet: run.changeSet } : {}) }));
}

/** Record the plan and act on the unit's policy, in one transaction; the apply run it approved and claimed, if any. */
async function record(rt: Runtime, run: RunRecord, unit: UnitDefinition, p: Prepared): Promise<RunRecord | undefined> {
  const outcome = p.outcome;
  const id = await uniquePlanId(rt, planId({ unit: unit.name, revision: run.revision, inputsHash: p.inputs.inputsHash, fingerprint: outcome.fingerprint }));
  // The unit is planned because what it reads changed: steps the tool cannot
  // predict may now do something else, so the change is applied. A drift
  // check, which plans code already applied, counts them only when asked.
  const hasChanges = outcome.hasChanges || (outcome.uncertain?.length ?? 0) > 0;
  const destroy = run.kind === 'destroy';
  const plan = await storedPlanOf(p, unit, id, {
    status: hasChanges ? 'Pending' : 'NoChanges',
    hasChanges,
    ...(run.changeSet && !destroy ? { changeSet: run.changeSet } : {}),
    ...(destroy ? { purpose: 'destroy' as const } : {}),
  }, { inStore: true });
  // Nothing to apply: no apply will write the outputs, so publish them now.
  const outputs = !hasChanges && !destroy ? await currentOutputs(rt, unit, p) : undefined;
  const artifacts = await readArtifacts(p.request.artifactsDir);
  const newer = await rt.newerPlanQueued(unit.name, run);
  const message = run.reason && !run.reason.startsWith('retry') ? `${summaryText(outcome)} (planned again: ${run.reason})` : summaryText(outcome);
  const decision = await rt.commitRun(run, async (tx) => {
    const stored = await t.planRecorded(tx, unit, plan, { message, startedAt: p.startedAt });
    // What the apply needs, kept with the plan: any member may apply it.
    await tx.putArtifacts(plan.id, artifacts);
    await tx.deleteRun(run.id);
    if (outputs && (await putOutputs(tx, unit.name, outputs))) await enqueueDependants(rt, tx, unit.name);
    if (newer) {
      await t.superseded(tx, stored, 'a newer commit arrived while it was planned');
      return undefined;
    }
    const decided = await decideInTx(rt, tx, unit, stored);
    // The slot this plan holds is free for its apply: taken here rather than
    // left to the next look at the queue (a stopping daemon leaves it queued).
    const next = decided.action === 'apply-now' && !rt.isStopping() ? await claimApplyOf(rt, tx, stored) : undefined;
    return { decided, next };
  });
  p.log.info({ planId: id, summary: outcome.summary, hasChanges, uncertain: outcome.uncertain?.length ?? 0, decision: decision?.decided.action }, 'plan recorded');
  if (decision?.decided.action === 'review-window') rt.armReviewWindow({ ...plan, applyAt: decision.decided.applyAt.toISOString() });
  if (!decision || decision.decided.action === 'in-sync') await rm(runPaths(p.runDir).tree, { recursive: true, force: true });
  // A pruned unit's destroy found nothing left: the unit is forgotten, and its folders go too.
  if (destroy && decision?.decided.action === 'in-sync') await removePrunedUnitFolders(rt.paths, unit.name);
  return decision?.next;
}

/** The apply run queued for `plan`, claimed by this member (as the scheduler claims a queued run). */
async function claimApplyOf(rt: Runtime, tx: StoreTx, plan: StoredPlan): Promise<RunRecord | undefined> {
  const queued = (await tx.listRuns({ unit: plan.unit, state: 'queued' })).find((r) => r.kind === 'apply' && r.planId === plan.id);
  if (!queued) return undefined;
  const claimed: RunRecord = { ...queued, state: 'running', claimedBy: rt.member, leaseUntil: rt.leaseUntil(), fence: queued.fence + 1 };
  await tx.putRun(claimed);
  return claimed;
}

/**
 * Act on a recorded plan inside the transaction that recorded it: in sync,
 * wait for a person, open a review window, or approve and queue the apply.
 * Returns what was decided.
 */
export async function decideInTx(rt: Runtime, tx: StoreTx, unit: UnitDefinition, plan: StoredPlan, options: { drift?: boolean } = {}): Promise<PlanDecision> {
  if (plan.purpose === 'destroy') return decideDestroy(tx, unit, plan);
  let decision = decide({
    hasChanges: plan.hasChanges,
    destructive: plan.destructive,
    approval: unit.approval,
    applyAfterMs: unit.applyAfterMs,
    now: new Date(),
    ...(unit.guard ? { guard: unit.guard, destroys: plan.summary.destroy + plan.summary.replace, hostsChanged: plan.hosts?.filter((h) => h.state === 'changed').length ?? 0 } : {}),
  });
  // An approved change set pre-approves its later plans, but never one that
  // deletes or replaces something, or passes a guard: those need their own approval.
  const changeSet = plan.changeSet ? await tx.getChangeSet(plan.changeSet) : undefined;
  let decidedBy = `policy:${unit.approval}`;
  if (decision.action === 'await-approval' && decision.reason === 'ApprovalRequired' && changeSet?.approvedBy && changeSet.revision === plan.revision && !plan.destructive) {
    decision = { action: 'apply-now' };
    decidedBy = `changeset:${changeSet.id} (${changeSet.approvedBy})`;
  }
  switch (decision.action) {
    case 'in-sync':
      if (!options.drift) await t.inSync(tx, unit, plan);
      break;
    case 'await-approval':
      await t.awaitingApproval(tx, unit, plan, decision.reason, decision.message, `${decision.message} (${summaryLine(plan)})`);
      break;
    case 'review-window':
      await t.reviewWindowOpened(tx, unit, plan, decision.applyAt, summaryLine(plan));
      break;
    case 'apply-now':
      await t.approved(tx, unit, plan.id, decidedBy, newRun('apply', unit.name, plan.revision, { planId: plan.id }), { event: false });
      break;
  }
  return decision;
}

/**
 * The destroy of a pruned unit never applies on its own, whatever the unit's
 * policy: a folder removed by mistake must not take its infrastructure along.
 */
async function decideDestroy(tx: StoreTx, unit: UnitDefinition, plan: StoredPlan): Promise<PlanDecision> {
  if (!plan.hasChanges) {
    await t.pruned(tx, unit.name, `${unit.name} was removed from the repository with prune: true; its state holds nothing to destroy`);
    return { action: 'in-sync' };
  }
  const message = `removed from the repository with prune: true: approve plan ${plan.id} to destroy ${plan.summary.destroy} resource(s) it manages (plumbline show ${plan.id})`;
  await t.awaitingApproval(tx, unit, plan, 'PruneApprovalRequired', message);
  return { action: 'await-approval', reason: 'ApprovalRequired', message };
}

/** Queue a plan of every dependant of `unit` that has none queued: its upstream's outputs changed. */
export async function enqueueDependants(rt: Runtime, tx: StoreTx, unit: string): Promise<void> {
  const head = rt.headChangeSet();
  for (const dependant of rt.dependantsOf(unit)) {
    const queued = await tx.listRuns({ unit: dependant.name });
    // A plan queued and not started will read the new outputs when it starts.
    if (queued.some((r) => r.kind === 'plan' && r.state === 'queued')) continue;
    const changeSet = head ? await tx.getChangeSet(head) : undefined;
    const inSet = changeSet && changeSet.units.includes(unit);
    if (changeSet && inSet && !changeSet.units.includes(dependant.name)) await tx.putChangeSet({ ...changeSet, units: [...changeSet.units, dependant.name] });
    for (const plan of await tx.listPlans({ unit: dependant.name, status: ['Pending', 'Approved'] })) await t.superseded(tx, plan, `superseded: ${unit}'s outputs changed`);
    const revision = changeSet?.revision ?? (await tx.getUnit(dependant.name))?.lastAttemptedRevision;
    if (!revision) continue;
    await t.enqueue(tx, newRun('plan', dependant.name, revision, { reason: `${unit}'s outputs changed`, ...(inSet ? { changeSet: changeSet.id } : {}) }), { replaces: ['plan', 'drift'] });
  }
}

/** The unit's current outputs, when a plan finds nothing to apply (no apply will publish them). */
async function currentOutputs(rt: Runtime, unit: UnitDefinition, p: Prepared): Promise<Record<string, OutputValue> | undefined> {
  const provider = rt.provider(unit.kind);
  return p.outcome.outputs ?? (provider.outputs ? await provider.outputs(p.request) : undefined);
}

/** Every file a plan left in its artifacts folder (binary plan, documents), for the store. */
export async function readArtifacts(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) files.set(entry.name, await readFile(join(dir, entry.name)));
  }
  return files;
}

/**
 * Write the plan's masked artifacts; the record, ready for its transition.
 * `inStore`: the caller puts the artifacts into the store in the transaction
 * that records the plan, so the files here are a working copy: written
 * without the fsyncs that make the only copy durable.
 */
export async function storedPlanOf(
  p: Prepared,
  unit: UnitDefinition,
  id: string,
  fields: Pick<StoredPlan, 'status' | 'hasChanges'> & Partial<StoredPlan>,
  options: { inStore?: boolean } = {},
): Promise<StoredPlan> {
  const outcome = p.outcome;
  const paths = runPaths(p.runDir);
  const write = options.inStore ? (path: string, text: string) => writeFile(path, text, { mode: 0o600 }) : writeFileAtomic;
  await write(paths.document, JSON.stringify(secrets.maskDeep(outcome.document), null, 2));
  await write(paths.rendered, secrets.maskText(outcome.rendered));
  const now = new Date().toISOString();
  return {
    id,
    runId: p.runId,
    unit: unit.name,
    kind: unit.kind,
    revision: p.request.revision,
    summary: outcome.summary,
    destructive: outcome.destructive,
    approval: unit.approval,
    applyAt: null,
    createdAt: now,
    updatedAt: now,
    inputsHash: p.inputs.inputsHash,
    ...(outcome.hosts ? { hosts: outcome.hosts } : {}),
    ...(outcome.managed ? { managed: outcome.managed } : {}),
    ...(outcome.uncertain?.length ? { uncertain: outcome.uncertain.length } : {}),
    ...(outcome.warnings?.length ? { warnings: outcome.warnings } : {}),
    ...fields,
  };
}

function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}

/**
 * The same content planned again (after a crash, a rejection, a failed apply)
 * is a new plan with its own record: the old one keeps its history.
 */
export async function uniquePlanId(rt: Runtime, base: string): Promise<string> {
  let id = base;
  for (let n = 2; await rt.store.getPlan(id); n += 1) id = `${base}.${n}`;
  return id;
}

export function summaryLine(plan: Pick<StoredPlan, 'summary'>): string {
  const s = plan.summary;
  return `+${s.add} ~${s.change} -${s.destroy} ±${s.replace}`;
}

export function summaryText(outcome: Pick<PlanOutcome, 'summary' | 'hasChanges' | 'hosts' | 'uncertain'>): string {
  const s = outcome.summary ?? EMPTY_SUMMARY;
  const uncertain = outcome.uncertain?.length ?? 0;
  const unpredictable = uncertain > 0 ? `${uncertain} step(s) the tool cannot predict, run when applied` : '';
  if (!outcome.hasChanges) return unpredictable ? `no changes; ${unpredictable}` : 'no changes';
  let text: string;
  if (outcome.hosts) {
    const moving = outcome.hosts.filter((h) => h.state !== 'ok' && h.state !== 'skipped').length;
    text = `${s.change} task change(s) on ${moving} of ${outcome.hosts.length} host(s)${s.destroy ? `, ${s.destroy} removing something` : ''}`;
  } else {
    text = `${s.add} to add, ${s.change} to change, ${s.destroy} to destroy, ${s.replace} to replace`;
  }
  return unpredictable ? `${text}; ${unpredictable}` : text;
}
