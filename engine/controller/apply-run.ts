import { readFile, rm } from 'node:fs/promises';
import { asPlumblineError } from '../errors.ts';
import { runPaths } from '../paths.ts';
import { outputsFromFiles, resolveInputs, writeOutputs } from './inputs.ts';
import { hostsOf, mergeHosts } from './hosts.ts';
import { supersede } from './plan-run.ts';
import type { Runtime } from './runtime.ts';
import { StepError } from './steps.ts';

/**
 * Apply exactly one approved plan. The plan is re-checked under the unit lock
 * first (still approved, still the unit's current plan, still for the newest
 * revision), then marked Applying on disk before anything runs, so a crash
 * leaves evidence and the next start plans again instead of guessing.
 */
export async function runApply(rt: Runtime, planIdToApply: string): Promise<void> {
  const plan = rt.store.getPlan(planIdToApply);
  if (!plan || plan.status !== 'Approved') return;
  const unit = rt.definition(plan.unit);
  const status = rt.store.getUnit(plan.unit);
  if (!unit || status?.planId !== plan.id || rt.desiredRevision(plan.unit) !== plan.revision) {
    await supersede(rt, plan, 'the unit has a newer plan');
    return;
  }
  const log = rt.log.child({ unit: plan.unit, revision: plan.revision, planId: plan.id, run: plan.runId });
  const runDir = rt.paths.run(plan.runId);
  let inputs;
  try {
    inputs = await resolveInputs(unit, plan.revision, outputsFromFiles(rt.paths.outputs));
  } catch {
    inputs = undefined;
  }
  if (!inputs || inputs.inputsHash !== plan.inputsHash) {
    // An upstream's outputs or a secret changed since the plan was made: the
    // approval was for other inputs. Plan again instead of applying.
    await rt.store.putPlan({ ...plan, status: 'Superseded', updatedAt: new Date().toISOString(), error: { code: 'E_INPUTS_CHANGED', message: 'its inputs changed after it was planned' } });
    await rt.store.appendHistory({ type: 'superseded', unit: plan.unit, revision: plan.revision, planId: plan.id, message: 'inputs changed after planning; planned again' });
    log.info({}, 'inputs changed since the plan: planning again');
    rt.replan(plan.unit);
    return;
  }
  const startedAt = new Date().toISOString();
  const applying = await rt.store.putPlan({ ...plan, status: 'Applying', updatedAt: startedAt });
  await rt.setUnit(plan.unit, { phase: 'Applying', reason: 'Applying', message: `applying plan ${plan.id}`, planId: plan.id });
  await rt.store.appendHistory({ type: 'apply-started', unit: plan.unit, revision: plan.revision, planId: plan.id, message: 'apply started', startedAt });
  log.info({}, 'apply started');

  try {
    const outcome = await rt.provider(unit.kind).apply({
      unit,
      revision: plan.revision,
      workdir: await workdirOf(runDir, unit.path),
      repoDir: rt.paths.snapshot(plan.revision),
      artifactsDir: runPaths(runDir).artifacts,
      unitStateDir: rt.paths.unitState(unit.name),
      vars: inputs.vars,
      sensitiveVars: inputs.sensitiveVars,
      ...(plan.limitHosts ? { limitHosts: plan.limitHosts } : {}),
      ...(plan.purpose === 'destroy' ? { destroy: true } : {}),
      ...(inputs.inventoryHosts !== undefined ? { inventoryHosts: inputs.inventoryHosts } : {}),
      // An apply is never cancelled half-way: shutdown waits for it.
      signal: new AbortController().signal,
      log,
    });
    const finishedAt = new Date().toISOString();
    if (plan.purpose === 'destroy') {
      await rt.store.putPlan({ ...applying, status: 'Applied', updatedAt: finishedAt, managed: [] });
      await rt.store.appendHistory({ type: 'applied', unit: plan.unit, revision: plan.revision, planId: plan.id, message: outcome.message || 'destroyed', startedAt, finishedAt });
      await rm(runPaths(runDir).tree, { recursive: true, force: true });
      await rt.forget(plan.unit, `${plan.unit} was removed from the repository with prune: true; everything it managed was destroyed (plan ${plan.id})`);
      return;
    }
    // Raw outputs (secrets included) feed dependants; they stay in the 0700 state dir.
    const outputsChanged = await writeOutputs(rt.paths.outputs(unit.name), outcome.outputs);
    await rt.store.putPlan({
      ...applying,
      status: 'Applied',
      updatedAt: finishedAt,
      ...(outcome.hosts ? { hosts: outcome.hosts } : {}),
      ...(outcome.managed ? { managed: outcome.managed } : {}),
    });
    // A newer commit may have been scheduled during the apply: its plan is queued.
    // The event first: whoever sees the unit's new status can read its history.
    await rt.store.appendHistory({
      type: plan.purpose === 'drift' ? 'remediated' : 'applied',
      unit: plan.unit,
      revision: plan.revision,
      planId: plan.id,
      message: outcome.message || 'applied',
      startedAt,
      finishedAt,
    });
    const newer = rt.desiredRevision(plan.unit) !== plan.revision;
    const hosts = outcome.hosts ? mergeHosts(rt.store.getUnit(plan.unit)?.hosts, outcome.hosts, plan.limitHosts) : undefined;
    await rt.setUnit(plan.unit, {
      phase: newer ? 'Planning' : 'InSync',
      reason: newer ? 'Queued' : (outcome.reason ?? 'Applied'),
      message: outcome.message || `applied plan ${plan.id}`,
      lastAppliedRevision: plan.revision,
      ...(hosts ? { hosts } : {}),
    });
    log.info({ ms: Date.parse(finishedAt) - Date.parse(startedAt) }, 'apply finished');
    rt.resetRetries(plan.unit);
    if (outputsChanged) rt.outputsChanged(plan.unit);
    await rm(runPaths(runDir).tree, { recursive: true, force: true });
  } catch (error) {
    const typed = asPlumblineError(error instanceof StepError ? error.error : error);
    const finishedAt = new Date().toISOString();
    const failure = { code: typed.code, message: String(typed.message), ...(typed.hint ? { hint: typed.hint } : {}) };
    // Providers that run against hosts attach every host's result to the error,
    // so one failing host never hides what happened on the others.
    const reported = hostsOf(typed);
    const hosts = reported ? mergeHosts(rt.store.getUnit(plan.unit)?.hosts, reported, plan.limitHosts) : undefined;
    await rt.store.putPlan({ ...applying, status: 'Failed', updatedAt: finishedAt, error: failure, ...(reported ? { hosts: reported } : {}) });
    await rt.store.appendHistory({ type: 'apply-failed', unit: plan.unit, revision: plan.revision, planId: plan.id, message: `${failure.code}: ${failure.message}`, startedAt, finishedAt });
    await rt.setUnit(plan.unit, {
      phase: 'Failed',
      reason: failure.code === 'E_PLAN_STALE' ? 'PlanStale' : 'ApplyFailed',
      message: failure.hint ? `${failure.message} (hint: ${failure.hint})` : failure.message,
      ...(hosts ? { hosts } : {}),
    });
    log.warn({ code: failure.code }, 'apply failed');
    rt.retryLater(plan.unit, typed);
  }
}

/** The unit folder inside the run's workspace tree (kept since the plan). */
async function workdirOf(runDir: string, unitPath: string): Promise<string> {
  const dir = `${runPaths(runDir).tree}/${unitPath}`;
  // Fail early and clearly if the workspace was cleaned away.
  await readFile(`${runPaths(runDir).artifacts}/document.json`, 'utf8');
  return dir;
}
