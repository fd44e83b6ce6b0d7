import { rm } from 'node:fs/promises';
import type { DriftPolicy } from '../definitions/types.ts';
import type { RunRecord } from '../store/types.ts';
import { planId } from './plan-id.ts';
import { cancelled, decideInTx, prepare, storedPlanOf, uniquePlanId, type Prepared } from './plan-run.ts';
import type { Runtime } from './runtime.ts';
import { unwrap } from './steps.ts';
import * as t from './transitions.ts';

/** After this many remediations of the same drift, the next one stalls the unit instead. */
export const MAX_SAME_REMEDIATIONS = 2;

/**
 * A drift check plans the unit's last applied commit again (Terraform refreshes,
 * Ansible runs in check mode). It never changes anything by itself: a drift it
 * finds becomes a plan that follows the unit's approval policy under
 * `remediate`, and waits for a person under `report`.
 */
export async function runDriftJob(rt: Runtime, run: RunRecord, policy: DriftPolicy, signal: AbortSignal): Promise<void> {
  const unit = rt.definition(run.unit);
  const status = await rt.store.getUnit(run.unit);
  // Only a settled unit, still at the revision the check was asked for, is checked.
  if (!unit || !status || (status.phase !== 'InSync' && status.phase !== 'Drifted') || status.lastAppliedRevision !== run.revision) {
    await rt.commitRun(run, (tx) => tx.deleteRun(run.id));
    return;
  }
  const startedAt = new Date().toISOString();
  let prepared: Prepared | undefined;
  try {
    prepared = await prepare(rt, unit, run.revision, signal);
    await compare(rt, run, policy, prepared);
  } catch (error) {
    if (signal.aborted) {
      await cancelled(rt, run, String(signal.reason ?? 'cancelled'));
      return;
    }
    const typed = unwrap(error);
    if (typed.code === 'E_FENCED') return;
    rt.log.warn({ unit: unit.name, code: typed.code }, 'drift check failed');
    // The infrastructure is not known to be wrong: keep the phase, say what failed.
    await rt.commitRun(run, async (tx) => {
      await t.driftCheckFailed(tx, unit, run.revision, { code: typed.code, message: typed.message }, { startedAt, finishedAt: new Date().toISOString() });
      await tx.deleteRun(run.id);
    });
  } finally {
    if (prepared) rt.activeRuns.delete(prepared.runId);
  }
}

async function compare(rt: Runtime, run: RunRecord, policy: DriftPolicy, p: Prepared): Promise<void> {
  const unit = rt.definition(run.unit)!;
  const outcome = p.outcome;
  const now = new Date().toISOString();
  // Code already applied: a step the tool cannot predict is no evidence of drift, unless asked.
  const uncertainCounts = policy.unknownTasks === 'report' && (outcome.uncertain?.length ?? 0) > 0;
  if (!outcome.hasChanges && !uncertainCounts) {
    await rm(p.runDir, { recursive: true, force: true });
    await rt.commitRun(run, async (tx) => {
      await tx.deleteRun(run.id);
      const status = await tx.getUnit(unit.name);
      if (status?.phase === 'Drifted') {
        for (const plan of await tx.listPlans({ unit: unit.name, purpose: 'drift', status: ['Pending', 'Approved'] })) await t.superseded(tx, plan, 'the drift is gone');
        await t.driftGone(tx, unit, run.revision, now, outcome.hosts, p.startedAt);
      } else {
        await t.noted(tx, unit, { lastDriftCheckAt: now, driftRemediations: undefined });
      }
    });
    p.log.debug({}, 'no drift');
    return;
  }

  const baseId = planId({ unit: unit.name, revision: run.revision, inputsHash: p.inputs.inputsHash, fingerprint: outcome.fingerprint });
  const pending = (await rt.store.listPlans({ unit: unit.name, purpose: 'drift', status: ['Pending', 'Approved'] }))[0];
  if (pending && pending.id.split('.')[0] === baseId) {
    // The same drift as last time: one plan, one notification, not one per interval.
    await rm(p.runDir, { recursive: true, force: true });
    await rt.commitRun(run, async (tx) => {
      await tx.deleteRun(run.id);
      await t.noted(tx, unit, { lastDriftCheckAt: now });
    });
    return;
  }

  // Steps the tool cannot predict name their host (`host => task`); counted as drift only when asked.
  const uncertainHosts = uncertainCounts ? new Set((outcome.uncertain ?? []).map((s) => s.split(' => ')[0])) : new Set<string>();
  const drifted = outcome.hosts?.filter((h) => h.state === 'changed' || uncertainHosts.has(h.name)).map((h) => h.name);
  const plan = await storedPlanOf(p, unit, await uniquePlanId(rt, baseId), {
    status: 'Pending',
    hasChanges: true,
    purpose: 'drift',
    driftAction: policy.action,
    ...(drifted && drifted.length > 0 ? { targets: drifted } : {}),
  });
  const where = drifted && drifted.length > 0 ? ` on ${drifted.join(', ')}` : '';
  const s = outcome.summary;
  const message = `drift${where}: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy, ${s.replace} to replace (plan ${plan.id})`;
  const decision = await rt.commitRun(run, async (tx) => {
    await tx.deleteRun(run.id);
    if (pending) await t.superseded(tx, pending, 'a newer drift check replaced it');
    const stored = await t.driftDetected(tx, unit, plan, message, { lastDriftCheckAt: now, startedAt: p.startedAt, ...(outcome.hosts ? { hosts: outcome.hosts } : {}) });
    if (policy.action !== 'remediate') return undefined;
    // The same drift (same commit, inputs and changes) found by consecutive checks,
    // each time remediated: a clean check or a new change plan resets the count.
    const previous = (await tx.getUnit(unit.name))?.driftRemediations;
    const repeats = previous?.drift === baseId ? previous.count : 0;
    if (repeats >= MAX_SAME_REMEDIATIONS) {
      await t.driftPersists(tx, unit, stored, persistsMessage(unit.name, stored.id, repeats, outcome.changes ?? []));
      return undefined;
    }
    await t.noted(tx, unit, { driftRemediations: { drift: baseId, count: repeats + 1 } });
    return decideInTx(rt, tx, unit, stored, { drift: true });
  });
  p.log.info({ summary: s, hosts: drifted, decision: decision?.action }, 'drift detected');
  if (decision?.action === 'review-window') rt.armReviewWindow({ ...plan, applyAt: decision.applyAt.toISOString() });
}

/**
 * Something outside Git keeps undoing the remediation (another tool, a cron
 * job, an autoscaler) or the code is not idempotent: remediating again would
 * loop forever. The unit stalls, naming what keeps coming back; the drift plan
 * stays for a person to apply or reject.
 */
function persistsMessage(unit: string, planId: string, repeats: number, changes: readonly string[]): string {
  const what = changes.length > 0 ? `: ${changes.slice(0, 10).join('; ')}${changes.length > 10 ? ` (and ${changes.length - 10} more)` : ''}` : '';
  return (
    `the same drift came back after ${repeats} remediations${what}; Plumbline stops remediating it ` +
    `(find what changes it outside Git, then run plumbline sync --unit ${unit}, or review plan ${planId})`
  );
}
