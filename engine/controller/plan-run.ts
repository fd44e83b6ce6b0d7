import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { DriftPolicy, UnitDefinition } from '../definitions/types.ts';
import { PlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { EMPTY_SUMMARY } from '../model.ts';
import { runPaths } from '../paths.ts';
import type { PlanOutcome, RunRequest } from '../provider.ts';
import { secrets } from '../secrets.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import type { StoredPlan } from '../store/store.ts';
import { createWorkspace } from '../workspace.ts';
import { findEscapingLinks } from '../definitions/escaping-links.ts';
import { outputsFromFiles, resolveInputs, writeOutputs, type ResolvedInputs } from './inputs.ts';
import { planId } from './plan-id.ts';
import { decide } from './policy.ts';
import { hostsOf } from './hosts.ts';
import type { Runtime } from './runtime.ts';
import { runSteps, StepError, type Step } from './steps.ts';

export interface PlanContext {
  rt: Runtime;
  unit: UnitDefinition;
  revision: string;
  runId: string;
  runDir: string;
  signal: AbortSignal;
  log: Logger;
  startedAt: string;
  snapshotDir?: string;
  workdir?: string;
  inputs?: ResolvedInputs;
  request?: RunRequest;
  outcome?: PlanOutcome;
  plan?: StoredPlan;
  /** Set for drift checks. */
  driftPolicy?: DriftPolicy;
  /** A destroy plan of a unit removed with `prune: true`. */
  destroy?: boolean;
}

/** Everything up to the provider's plan: shared by change plans and drift checks. */
export const preparationSteps: Step<PlanContext>[] = [
  {
    name: 'snapshot',
    async run(c) {
      c.snapshotDir = await c.rt.source.snapshot(c.revision);
    },
  },
  {
    name: 'workspace',
    async run(c) {
      const paths = runPaths(c.runDir);
      await mkdir(paths.artifacts, { recursive: true, mode: 0o700 });
      c.workdir = await createWorkspace({
        snapshotDir: c.snapshotDir!,
        unitPath: c.unit.path,
        treeDir: paths.tree,
        immutableSnapshot: true,
        reads: c.rt.store.getReads(c.unit.name)?.entries.map((e) => e.path),
      });
    },
  },
  {
    name: 'confine',
    async run(c) {
      // Nothing a run reads may come from outside the repository through a committed symlink.
      const reads = c.rt.store.getReads(c.unit.name)?.entries.map((e) => e.path) ?? [c.unit.path];
      const escaping = await findEscapingLinks(c.snapshotDir!, reads);
      if (escaping.length > 0) {
        throw new PlumblineError(
          'E_INPUT_OUTSIDE_REPOSITORY',
          `${escaping.map((l) => `${l.path} is a symlink to ${l.target}`).join('; ')}: outside the repository, so ${c.unit.name} is not run`,
          { retry: 'stalled', hint: 'commit the file itself instead of a link to it, or a link that stays inside the repository' },
        );
      }
    },
  },
  {
    name: 'inputs',
    async run(c) {
      c.inputs = await resolveInputs(c.unit, c.revision, outputsFromFiles(c.rt.paths.outputs));
    },
  },
  {
    name: 'plan',
    async run(c) {
      await mkdir(c.rt.paths.unitState(c.unit.name), { recursive: true, mode: 0o700 });
      c.request = {
        unit: c.unit,
        revision: c.revision,
        workdir: c.workdir!,
        repoDir: c.snapshotDir!,
        artifactsDir: runPaths(c.runDir).artifacts,
        unitStateDir: c.rt.paths.unitState(c.unit.name),
        vars: c.inputs!.vars,
        sensitiveVars: c.inputs!.sensitiveVars,
        ...(c.inputs!.inventoryHosts !== undefined ? { inventoryHosts: c.inputs!.inventoryHosts } : {}),
        signal: c.signal,
        log: c.log,
        ...(c.destroy ? { destroy: true } : {}),
      };
      c.outcome = await c.rt.provider(c.unit.kind).plan(c.request);
    },
  },
];

const changeSteps: Step<PlanContext>[] = [
  ...preparationSteps,
  {
    name: 'record',
    async run(c) {
      const outcome = c.outcome!;
      const id = uniquePlanId(c.rt, planId({ unit: c.unit.name, revision: c.revision, inputsHash: c.inputs!.inputsHash, fingerprint: outcome.fingerprint }));
      const changeSet = c.rt.changeSetFor(c.unit.name);
      // The unit is planned because what it reads changed: steps the tool cannot
      // predict may now do something else, so the change is applied. A drift
      // check, which plans code already applied, counts them only when asked.
      const hasChanges = outcome.hasChanges || (outcome.uncertain?.length ?? 0) > 0;
      c.plan = await storePlan(c, id, {
        status: hasChanges ? 'Pending' : 'NoChanges',
        hasChanges,
        ...(changeSet && !c.destroy ? { changeSet } : {}),
        ...(c.destroy ? { purpose: 'destroy' as const } : {}),
      });
      const now = c.plan.createdAt;
      // A change planned anew: a drift seen before is judged afresh.
      const reset = c.rt.store.getUnit(c.unit.name)?.driftRemediations ? { driftRemediations: undefined } : {};
      if (outcome.hosts || 'driftRemediations' in reset) await c.rt.setUnit(c.unit.name, { ...reset, ...(outcome.hosts ? { hosts: outcome.hosts } : {}) });
      c.log = c.log.child({ planId: id });
      const why = c.rt.replanReason(c.unit.name);
      await c.rt.store.appendHistory({
        type: 'planned',
        unit: c.unit.name,
        revision: c.revision,
        planId: id,
        message: why ? `${summaryText(outcome)} (planned again: ${why})` : summaryText(outcome),
        startedAt: c.startedAt,
        finishedAt: now,
      });
      c.log.info({ summary: outcome.summary, hasChanges, uncertain: outcome.uncertain?.length ?? 0 }, 'plan created');
    },
  },
  {
    name: 'outputs',
    async run(c) {
      // Nothing to apply: no apply will write the outputs, so read them now.
      if (!c.plan!.hasChanges) await refreshOutputs(c);
    },
  },
  {
    name: 'decide',
    async run(c) {
      await applyPolicy(c.rt, c.plan!, c.unit, c.log);
    },
  },
];

/**
 * Errors in what the commit holds (not in how the tool ran): the unit is
 * Stalled until a commit fixes it, with a reason of its own.
 */
const STALLING_CODES: Readonly<Record<string, string>> = {
  E_INPUT_OUTSIDE_REPOSITORY: 'InputOutsideRepository',
  E_UNDECLARED_VARIABLE: 'InvalidDefinition',
};

/** Plan one unit at one revision, record the plan, and act on the unit's policy. */
export async function runPlan(rt: Runtime, unit: UnitDefinition, revision: string, signal: AbortSignal, options: { destroy?: boolean } = {}): Promise<void> {
  const context = newContext(rt, unit, revision, signal);
  if (options.destroy) context.destroy = true;
  rt.activeRuns.add(context.runId);
  await rt.setUnit(unit.name, {
    phase: 'Planning',
    reason: options.destroy ? 'Pruning' : 'Planning',
    message: options.destroy ? `planning the destroy of what it manages (code of ${revision.slice(0, 8)})` : `planning ${revision.slice(0, 8)}`,
    lastAttemptedRevision: revision,
  });
  try {
    await runSteps(context, changeSteps, context.log);
    rt.resetRetries(unit.name);
  } catch (error) {
    await rm(context.runDir, { recursive: true, force: true });
    if (signal.aborted) {
      // Cut off by a newer commit (whose plan follows) or by shutdown (the next
      // start plans again): neither is the unit's failure.
      context.log.info({ reason: String(signal.reason ?? 'aborted') }, 'plan cancelled');
      return;
    }
    const typed = error instanceof StepError ? error.error : (error as PlumblineError);
    context.log.warn({ code: typed.code, step: (error as StepError).step }, 'plan failed');
    const hosts = hostsOf(typed);
    const stalledReason = STALLING_CODES[typed.code];
    await rt.store.appendHistory({
      type: 'plan-failed',
      unit: unit.name,
      revision,
      planId: null,
      message: `${typed.code}: ${typed.message}`,
      startedAt: context.startedAt,
      finishedAt: new Date().toISOString(),
    });
    await rt.setUnit(unit.name, {
      phase: stalledReason ? 'Stalled' : 'Failed',
      reason: stalledReason ?? 'PlanFailed',
      message: typed.hint ? `${typed.message} (hint: ${typed.hint})` : typed.message,
      planId: null,
      ...(hosts ? { hosts } : {}),
    });
    rt.retryLater(unit.name, typed);
  } finally {
    rt.activeRuns.delete(context.runId);
  }
}

/** Act on a recorded plan: in sync, wait for a person, open a review window, or apply. */
export async function applyPolicy(rt: Runtime, recorded: StoredPlan, unit: UnitDefinition, log: Logger): Promise<void> {
  // The plan was visible through the API since it was recorded: someone may have
  // rejected (or approved) it in between. Only a plan still Pending is decided here.
  const plan = rt.store.getPlan(recorded.id);
  if (!plan || (plan.status !== 'Pending' && plan.status !== 'NoChanges')) return;
  if (rt.desiredRevision(unit.name) !== plan.revision) {
    await supersede(rt, plan, 'a newer commit arrived while it was planned');
    return;
  }
  if (plan.purpose === 'destroy') {
    await decideDestroy(rt, plan, unit, log);
    return;
  }
  let decision = decide({
    hasChanges: plan.hasChanges,
    destructive: plan.destructive,
    approval: unit.approval,
    applyAfterMs: unit.applyAfterMs,
    now: new Date(),
    ...(unit.guard ? { guard: unit.guard, destroys: plan.summary.destroy + plan.summary.replace, hostsChanged: plan.hosts?.filter((h) => h.state === 'changed').length ?? 0 } : {}),
  });
  // An approved change set pre-approves its later plans, but never one that
  // deletes or replaces something: that always needs its own approval.
  const changeSet = plan.changeSet ? rt.changeSetRecord(plan.changeSet) : undefined;
  let decidedBy = `policy:${unit.approval}`;
  if (decision.action === 'await-approval' && decision.reason === 'ApprovalRequired' && changeSet?.approvedBy && changeSet.revision === plan.revision && !plan.destructive) {
    decision = { action: 'apply-now' };
    decidedBy = `changeset:${changeSet.id} (${changeSet.approvedBy})`;
  }
  switch (decision.action) {
    case 'in-sync':
      await rt.setUnit(unit.name, {
        phase: 'InSync',
        reason: 'NoChanges',
        message: 'the infrastructure matches the repository',
        planId: plan.id,
        lastAppliedRevision: plan.revision,
      });
      await rm(runPaths(rt.paths.run(plan.runId)).tree, { recursive: true, force: true });
      return;
    case 'await-approval':
      await rt.store.appendHistory({ type: 'awaiting-approval', unit: unit.name, revision: plan.revision, planId: plan.id, message: `${decision.message} (${summaryLine(plan)})` });
      await rt.setUnit(unit.name, { phase: 'AwaitingApproval', reason: decision.reason, message: decision.message, planId: plan.id });
      log.info({ reason: decision.reason }, 'plan awaits approval');
      return;
    case 'review-window': {
      const updated = await rt.store.putPlan({ ...plan, applyAt: decision.applyAt.toISOString(), updatedAt: new Date().toISOString() });
      await rt.store.appendHistory({
        type: 'awaiting-approval',
        unit: unit.name,
        revision: plan.revision,
        planId: plan.id,
        message: `applies at ${decision.applyAt.toISOString()} unless rejected (${summaryLine(plan)})`,
      });
      await rt.setUnit(unit.name, {
        phase: 'AwaitingApproval',
        reason: 'ReviewWindow',
        message: `applies automatically at ${decision.applyAt.toISOString()} unless rejected`,
        planId: plan.id,
      });
      rt.armReviewWindow(updated);
      return;
    }
    case 'apply-now': {
      const approved = await rt.store.putPlan({
        ...plan,
        status: 'Approved',
        decidedBy,
        decidedAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      });
      await rt.setUnit(unit.name, { phase: 'Applying', reason: 'Queued', message: 'apply queued', planId: plan.id });
      rt.scheduleApply(approved);
      return;
    }
  }
}

/**
 * The destroy of a pruned unit never applies on its own, whatever the unit's
 * policy: a folder removed by mistake must not take its infrastructure along.
 */
async function decideDestroy(rt: Runtime, plan: StoredPlan, unit: UnitDefinition, log: Logger): Promise<void> {
  if (!plan.hasChanges) {
    await rm(runPaths(rt.paths.run(plan.runId)).tree, { recursive: true, force: true });
    await rt.forget(unit.name, `${unit.name} was removed from the repository with prune: true; its state holds nothing to destroy`);
    return;
  }
  const s = plan.summary;
  const message = `removed from the repository with prune: true: approve plan ${plan.id} to destroy ${s.destroy} resource(s) it manages (plumbline show ${plan.id})`;
  await rt.store.appendHistory({ type: 'awaiting-approval', unit: unit.name, revision: plan.revision, planId: plan.id, message });
  await rt.setUnit(unit.name, { phase: 'AwaitingApproval', reason: 'PruneApprovalRequired', message, planId: plan.id });
  log.info({ destroy: s.destroy }, 'destroy plan of a pruned unit awaits approval');
}

export async function supersede(rt: Runtime, plan: StoredPlan, why: string): Promise<void> {
  if (!['Pending', 'Approved'].includes(plan.status)) return;
  await rt.store.putPlan({ ...plan, status: 'Superseded', updatedAt: new Date().toISOString(), error: { code: 'E_SUPERSEDED', message: why } });
  await rt.store.appendHistory({ type: 'superseded', unit: plan.unit, revision: plan.revision, planId: plan.id, message: why });
  await rm(runPaths(rt.paths.run(plan.runId)).tree, { recursive: true, force: true });
}

/** Write the plan's masked artifacts and its record; `fields` decide what kind of plan it is. */
export async function storePlan(c: PlanContext, id: string, fields: Pick<StoredPlan, 'status' | 'hasChanges'> & Partial<StoredPlan>): Promise<StoredPlan> {
  const outcome = c.outcome!;
  const paths = runPaths(c.runDir);
  await writeFileAtomic(paths.document, JSON.stringify(secrets.maskDeep(outcome.document), null, 2));
  await writeFileAtomic(paths.rendered, secrets.maskText(outcome.rendered));
  const now = new Date().toISOString();
  return c.rt.store.putPlan({
    id,
    runId: c.runId,
    unit: c.unit.name,
    kind: c.unit.kind,
    revision: c.revision,
    summary: outcome.summary,
    destructive: outcome.destructive,
    approval: c.unit.approval,
    applyAt: null,
    createdAt: now,
    updatedAt: now,
    inputsHash: c.inputs!.inputsHash,
    ...(outcome.hosts ? { hosts: outcome.hosts } : {}),
    ...(outcome.managed ? { managed: outcome.managed } : {}),
    ...(outcome.uncertain?.length ? { uncertain: outcome.uncertain.length } : {}),
    ...(outcome.warnings?.length ? { warnings: outcome.warnings } : {}),
    ...fields,
  });
}

/** Store the unit's current outputs; if they differ from the stored ones, dependants plan again. */
async function refreshOutputs(c: PlanContext): Promise<void> {
  const provider = c.rt.provider(c.unit.kind);
  const outputs = c.outcome!.outputs ?? (provider.outputs ? await provider.outputs(c.request!) : undefined);
  if (!outputs) return;
  if (await writeOutputs(c.rt.paths.outputs(c.unit.name), outputs)) c.rt.outputsChanged(c.unit.name);
}

export function newContext(rt: Runtime, unit: UnitDefinition, revision: string, signal: AbortSignal): PlanContext {
  const runId = `${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
  return {
    rt,
    unit,
    revision,
    runId,
    runDir: rt.paths.run(runId),
    signal,
    startedAt: new Date().toISOString(),
    log: rt.log.child({ unit: unit.name, revision, run: runId }),
  };
}

/**
 * The same content planned again (after a crash, a rejection, a failed apply)
 * is a new plan with its own record: the old one keeps its history.
 */
export function uniquePlanId(rt: Runtime, base: string): string {
  let id = base;
  for (let n = 2; rt.store.getPlan(id); n += 1) id = `${base}.${n}`;
  return id;
}

function summaryLine(plan: StoredPlan): string {
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

