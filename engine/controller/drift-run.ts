import { rm } from 'node:fs/promises';
import type { DriftPolicy, UnitDefinition } from '../definitions/types.ts';
import { asPlumblineError } from '../errors.ts';
import { planId } from './plan-id.ts';
import { applyPolicy, newContext, preparationSteps, storePlan, supersede, uniquePlanId, type PlanContext } from './plan-run.ts';
import type { Runtime } from './runtime.ts';
import { runSteps, StepError, type Step } from './steps.ts';

/** After this many remediations of the same drift, the next one stalls the unit instead. */
export const MAX_SAME_REMEDIATIONS = 2;

const driftSteps: Step<PlanContext>[] = [
  ...preparationSteps,
  {
    name: 'compare',
    async run(c) {
      await recordDrift(c);
    },
  },
];

/**
 * A drift check plans the unit's last applied commit again (Terraform refreshes,
 * Ansible runs in check mode). It never changes anything by itself: a drift it
 * finds becomes a plan that follows the unit's approval policy under
 * `remediate`, and waits for a person under `report`.
 */
export async function runDriftCheck(rt: Runtime, unit: UnitDefinition, revision: string, policy: DriftPolicy, signal: AbortSignal): Promise<void> {
  const context = newContext(rt, unit, revision, signal);
  context.driftPolicy = policy;
  rt.activeRuns.add(context.runId);
  try {
    await runSteps(context, driftSteps, context.log);
  } catch (error) {
    await rm(context.runDir, { recursive: true, force: true });
    if (signal.aborted) return;
    const typed = error instanceof StepError ? error.error : asPlumblineError(error);
    context.log.warn({ code: typed.code }, 'drift check failed');
    // The infrastructure is not known to be wrong: keep the phase, say what failed.
    await rt.setUnit(unit.name, { message: `drift check failed: ${typed.message}`, lastDriftCheckAt: new Date().toISOString() });
    await rt.store.appendHistory({
      type: 'drift-checked',
      unit: unit.name,
      revision,
      planId: null,
      message: `drift check failed: ${typed.code}: ${typed.message}`,
      startedAt: context.startedAt,
      finishedAt: new Date().toISOString(),
    });
  } finally {
    rt.activeRuns.delete(context.runId);
  }
}

async function recordDrift(c: PlanContext): Promise<void> {
  const outcome = c.outcome!;
  const now = new Date().toISOString();
  const status = c.rt.store.getUnit(c.unit.name);
  // Code already applied: a step the tool cannot predict is no evidence of drift, unless asked.
  const uncertainCounts = c.driftPolicy?.unknownTasks === 'report' && (outcome.uncertain?.length ?? 0) > 0;
  if (!outcome.hasChanges && !uncertainCounts) {
    await rm(c.runDir, { recursive: true, force: true });
    if (status?.phase === 'Drifted') {
      await supersedePendingDrift(c.rt, c.unit.name, 'the drift is gone');
      await c.rt.store.appendHistory({ type: 'drift-checked', unit: c.unit.name, revision: c.revision, planId: null, message: 'no drift any more', startedAt: c.startedAt, finishedAt: now });
      await c.rt.setUnit(c.unit.name, {
        phase: 'InSync',
        reason: 'NoDrift',
        message: 'no drift: the infrastructure matches the repository again',
        lastDriftCheckAt: now,
        driftRemediations: undefined,
        ...(outcome.hosts ? { hosts: outcome.hosts } : {}),
      });
    } else {
      await c.rt.setUnit(c.unit.name, { lastDriftCheckAt: now, driftRemediations: undefined });
    }
    c.log.debug({}, 'no drift');
    return;
  }

  const baseId = planId({ unit: c.unit.name, revision: c.revision, inputsHash: c.inputs!.inputsHash, fingerprint: outcome.fingerprint });
  const pending = c.rt.store.listPlans({ unit: c.unit.name }).find((p) => p.purpose === 'drift' && (p.status === 'Pending' || p.status === 'Approved'));
  if (pending && pending.id.split('.')[0] === baseId) {
    // The same drift as last time: one plan, one notification, not one per interval.
    await rm(c.runDir, { recursive: true, force: true });
    await c.rt.setUnit(c.unit.name, { lastDriftCheckAt: now });
    return;
  }
  if (pending) await supersede(c.rt, pending, 'a newer drift check replaced it');

  const drifted = outcome.hosts?.filter((h) => h.state === 'changed' || (uncertainCounts && h.state === 'unknown')).map((h) => h.name);
  const plan = await storePlan(c, uniquePlanId(c.rt, baseId), {
    status: 'Pending',
    hasChanges: true,
    purpose: 'drift',
    ...(c.driftPolicy ? { driftAction: c.driftPolicy.action } : {}),
    ...(drifted && drifted.length > 0 ? { limitHosts: drifted } : {}),
  });
  const where = drifted && drifted.length > 0 ? ` on ${drifted.join(', ')}` : '';
  const s = outcome.summary;
  const message = `drift${where}: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy, ${s.replace} to replace (plan ${plan.id})`;
  await c.rt.store.appendHistory({ type: 'drift-detected', unit: c.unit.name, revision: c.revision, planId: plan.id, message, startedAt: c.startedAt, finishedAt: now });
  await c.rt.setUnit(c.unit.name, {
    phase: 'Drifted',
    reason: 'DriftDetected',
    message,
    planId: plan.id,
    lastDriftCheckAt: now,
    ...(outcome.hosts ? { hosts: outcome.hosts } : {}),
  });
  c.log.info({ summary: s, hosts: drifted }, 'drift detected');
  if (c.driftPolicy?.action !== 'remediate') return;
  // The same drift (same commit, inputs and changes) found by consecutive checks,
  // each time remediated: a clean check or a new change plan resets the count.
  const previous = c.rt.store.getUnit(c.unit.name)?.driftRemediations;
  const repeats = previous?.drift === baseId ? previous.count : 0;
  if (repeats >= MAX_SAME_REMEDIATIONS) {
    await stallPersistentDrift(c, plan.id, repeats);
    return;
  }
  await c.rt.setUnit(c.unit.name, { driftRemediations: { drift: baseId, count: repeats + 1 } });
  await applyPolicy(c.rt, plan, c.unit, c.log);
}

/**
 * Something outside Git keeps undoing the remediation (another tool, a cron
 * job, an autoscaler) or the code is not idempotent: remediating again would
 * loop forever. The unit stalls, naming what keeps coming back; the drift plan
 * stays for a person to apply or reject.
 */
async function stallPersistentDrift(c: PlanContext, planId: string, repeats: number): Promise<void> {
  const changes = c.outcome!.changes ?? [];
  const what = changes.length > 0 ? `: ${changes.slice(0, 10).join('; ')}${changes.length > 10 ? ` (and ${changes.length - 10} more)` : ''}` : '';
  const message =
    `the same drift came back after ${repeats} remediations${what}; Plumbline stops remediating it ` +
    `(find what changes it outside Git, then run plumbline sync --unit ${c.unit.name}, or review plan ${planId})`;
  await c.rt.store.appendHistory({ type: 'drift-detected', unit: c.unit.name, revision: c.revision, planId, message });
  await c.rt.setUnit(c.unit.name, { phase: 'Stalled', reason: 'DriftPersists', message, planId });
  c.log.warn({ repeats, changes: changes.length }, 'drift persists after remediation: unit stalled');
}

async function supersedePendingDrift(rt: Runtime, unit: string, why: string): Promise<void> {
  for (const plan of rt.store.listPlans({ unit })) {
    if (plan.purpose === 'drift') await supersede(rt, plan, why);
  }
}
