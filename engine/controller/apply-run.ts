import { access, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UnitDefinition } from '../definitions/types.ts';
import { createWorkspace } from '../workspace.ts';
import { PlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { runPaths } from '../paths.ts';
import { removePreviewState } from '../previews/state-folder.ts';
import type { ApplyOutcome } from '../provider.ts';
import type { RunRecord, StoredPlan, StoreTx } from '../store/types.ts';
import { hostsOf, mergeHosts } from './hosts.ts';
import { outputsFromStore, putOutputs, resolveInputs } from './inputs.ts';
import { enqueueDependants, retry } from './plan-run.ts';
import { newRun } from './runs.ts';
import type { Runtime } from './runtime.ts';
import { unwrap } from './steps.ts';
import * as t from './transitions.ts';

/**
 * Apply exactly one approved plan. It is checked again first (still approved,
 * still the unit's current plan, no newer commit queued, its inputs unchanged),
 * then marked Applying before anything runs, so a crash leaves evidence and
 * the next start plans again instead of guessing.
 */
export async function runApplyJob(rt: Runtime, run: RunRecord): Promise<void> {
  const plan = run.planId ? await rt.store.getPlan(run.planId) : undefined;
  const unit = plan ? await rt.definitionAt(plan.unit, plan.revision) : undefined;
  if (!plan || plan.status !== 'Approved' || !unit) {
    await rt.commitRun(run, (tx) => tx.deleteRun(run.id));
    return;
  }
  const status = await rt.store.getUnit(plan.unit);
  if (status?.planId !== plan.id || (await rt.newerPlanQueued(plan.unit, plan))) {
    await rt.commitRun(run, async (tx) => {
      await t.superseded(tx, plan, 'the unit has a newer plan');
      await tx.deleteRun(run.id);
    });
    return;
  }
  const log = rt.log.child({ unit: plan.unit, revision: plan.revision, planId: plan.id, run: plan.runId });
  const inputs = await resolveInputs(unit, plan.revision, outputsFromStore(rt.store)).catch(() => undefined);
  if (!inputs || inputs.inputsHash !== plan.inputsHash) {
    // An upstream's outputs or a secret changed since the plan was made: the
    // approval was for other inputs. Plan again instead of applying.
    log.info({}, 'inputs changed since the plan: planning again');
    await rt.commitRun(run, async (tx) => {
      await t.superseded(tx, plan, 'inputs changed after planning; planned again', 'E_INPUTS_CHANGED');
      await tx.deleteRun(run.id);
      await t.enqueue(tx, newRun('plan', plan.unit, plan.revision, { reason: 'its inputs changed after it was planned', ...(plan.changeSet ? { changeSet: plan.changeSet } : {}) }), { replaces: ['plan', 'drift'] });
    });
    return;
  }
  const startedAt = new Date().toISOString();
  const applying = await rt.commitRun(run, (tx) => t.applyStarted(tx, unit, plan, startedAt, rt.member));
  log.info({}, 'apply started');
  const runDir = rt.paths.run(plan.runId);
  rt.activeRuns.add(plan.runId);
  let outcome: ApplyOutcome;
  try {
    await ensureWorkspace(rt, plan, unit, runDir, log);
    outcome = await rt.provider(unit.kind).apply({
      unit,
      revision: plan.revision,
      workdir: `${runPaths(runDir).tree}/${unit.path}`,
      repoDir: rt.paths.snapshot(plan.revision),
      artifactsDir: runPaths(runDir).artifacts,
      unitStateDir: rt.paths.unitState(unit.name),
      vars: inputs.vars,
      sensitiveVars: inputs.sensitiveVars,
      resolvedSpec: inputs.resolvedSpec,
      ...(plan.targets ? { targets: plan.targets } : {}),
      ...(plan.purpose === 'destroy' ? { destroy: true } : {}),
      // An apply is never cancelled half-way: shutdown waits for it.
      signal: new AbortController().signal,
      log,
    });
  } catch (error) {
    await finishDurably(rt, run, applying, log, (tx) => failedInTx(rt, tx, run, applying, error, startedAt));
    rt.activeRuns.delete(plan.runId);
    return;
  }
  const finishedAt = new Date().toISOString();
  const known = status?.hosts;
  await finishDurably(rt, run, applying, log, async (tx) => {
    await tx.deleteRun(run.id);
    if (plan.purpose === 'destroy') {
      await t.applied(tx, unit, applying, { message: outcome.message || 'destroyed', reason: 'Applied', managed: [], newerQueued: false }, { startedAt, finishedAt });
      await t.pruned(tx, plan.unit, `${plan.unit} was removed from the repository with prune: true; everything it managed was destroyed (plan ${plan.id})`);
      return;
    }
    const hosts = outcome.hosts ? mergeHosts(known, outcome.hosts, plan.targets) : undefined;
    const newerQueued = (await tx.listRuns({ unit: plan.unit })).some((r) => r.kind === 'plan' && r.createdAt > plan.createdAt);
    await t.applied(
      tx,
      unit,
      applying,
      { message: outcome.message || `applied plan ${plan.id}`, reason: outcome.reason ?? 'Applied', ...(hosts ? { hosts } : {}), ...(outcome.managed ? { managed: outcome.managed } : {}), newerQueued },
      { startedAt, finishedAt },
    );
    // Raw outputs (secrets included) feed dependants, on any member.
    if (await putOutputs(tx, plan.unit, outcome.outputs)) await enqueueDependants(rt, tx, plan.unit);
  });
  log.info({ ms: Date.parse(finishedAt) - Date.parse(startedAt) }, 'apply finished');
  rt.activeRuns.delete(plan.runId);
  if (plan.purpose === 'destroy') {
    await rm(rt.paths.unitState(plan.unit), { recursive: true, force: true });
    // In use by a preview of a branch that still has the unit: the next cleanup takes it (gc.ts).
    await removePreviewState(rt.paths, plan.unit);
  }
  await rm(runPaths(runDir).tree, { recursive: true, force: true });
}

async function failedInTx(rt: Runtime, tx: StoreTx, run: RunRecord, plan: StoredPlan, error: unknown, startedAt: string): Promise<void> {
  const typed = unwrap(error);
  // Providers that run against hosts attach every host's result to the error,
  // so one failing host never hides what happened on the others.
  const reported = hostsOf(typed);
  const unitHosts = reported ? mergeHosts((await tx.getUnit(plan.unit))?.hosts, reported, plan.targets) : undefined;
  const unit = { name: plan.unit, kind: plan.kind, path: (await tx.getUnit(plan.unit))?.path ?? '' };
  await t.applyFailed(
    tx,
    unit,
    plan,
    { code: typed.code, message: String(typed.message), ...(typed.hint ? { hint: typed.hint } : {}), ...(reported ? { hosts: reported } : {}), ...(unitHosts ? { unitHosts } : {}) },
    { startedAt, finishedAt: new Date().toISOString() },
  );
  await tx.deleteRun(run.id);
  rt.log.warn({ unit: plan.unit, planId: plan.id, code: typed.code }, 'apply failed');
  if (typed.retry !== 'stalled') await retry(tx, run);
}

/** How long to wait between attempts to record an apply's end when the store refuses writes. */
const RECORD_RETRY_MS = [1_000, 5_000, 15_000, 30_000, 60_000];

/**
 * The apply has happened: its end must be recorded. A store that refuses the
 * write (a disk full) gets the same write again later; after the first refusal
 * the run is recorded as Interrupted with the reason instead (the unit is
 * planned again, which shows what the apply did), retried until the store
 * takes it, so a unit never stays Applying with nothing running.
 */
async function finishDurably(rt: Runtime, run: RunRecord, plan: StoredPlan, log: Logger, write: (tx: StoreTx) => Promise<void>): Promise<void> {
  try {
    await rt.commitRun(run, write);
    return;
  } catch (error) {
    const typed = unwrap(error);
    if (typed.code === 'E_FENCED') {
      // Another member took the run over (this one was paused or cut off): its result is not ours to record.
      log.warn({ err: typed }, 'the run was taken over by another member: its end is not recorded here');
      return;
    }
    log.error({ code: typed.code, err: typed }, 'the end of the apply could not be recorded; recording it as interrupted as soon as the store takes writes');
    for (let attempt = 0; ; attempt++) {
      await new Promise((r) => setTimeout(r, RECORD_RETRY_MS[Math.min(attempt, RECORD_RETRY_MS.length - 1)]));
      if (rt.isStopping()) {
        // The next start finds the plan Applying and marks it interrupted.
        log.warn({}, 'stopping with the end of an apply unrecorded');
        return;
      }
      try {
        await rt.commitRun(run, async (tx) => {
          const current = await tx.getPlan(plan.id);
          if (current?.status !== 'Applying') return;
          await t.interrupted(tx, current, `the apply ended but its result could not be recorded (${typed.code}: ${typed.message})`);
          for (const run of await tx.listRuns({ unit: plan.unit })) if (run.planId === plan.id) await tx.deleteRun(run.id);
          await t.enqueue(tx, newRun('plan', plan.unit, plan.revision, { reason: 'its apply could not be recorded' }), { replaces: ['plan', 'drift'] });
        });
        log.info({ attempts: attempt + 1 }, 'the interrupted apply is recorded; the unit is planned again');
        return;
      } catch (again) {
        if (again instanceof PlumblineError && again.code === 'E_FENCED') return;
        if (!(again instanceof PlumblineError) || again.retry === 'stalled') log.warn({ err: again }, 'still cannot record the end of the apply');
      }
    }
  }
}

/**
 * The plan's workspace and artifacts, as the plan left them. Another member
 * may have made the plan (or this one restarted and cleaned up): the
 * workspace is made again from the commit and the artifacts come from the
 * store, so the saved plan itself is what gets applied.
 */
async function ensureWorkspace(rt: Runtime, plan: StoredPlan, unit: UnitDefinition, runDir: string, log: Logger): Promise<void> {
  const paths = runPaths(runDir);
  if (await access(join(paths.tree, unit.path)).then(() => true, () => false)) {
    if (await access(paths.document).then(() => true, () => false)) return;
  }
  const artifacts = await rt.store.getArtifacts(plan.id);
  if (artifacts.size === 0) {
    throw new PlumblineError('E_PLAN_MISSING', `the artifacts of plan ${plan.id} are gone`, { retry: 'waiting', hint: 'Plumbline plans the unit again before it can apply' });
  }
  log.info({ files: artifacts.size }, 'the plan was made elsewhere: its workspace is made again here from the commit and the store');
  await rm(runDir, { recursive: true, force: true });
  const snapshotDir = await rt.source.snapshot(plan.revision);
  const reads = (await rt.store.getReads(unit.name))?.entries.map((e) => e.path) ?? [unit.path];
  await createWorkspace({ snapshotDir, unitPath: unit.path, treeDir: paths.tree, immutableSnapshot: true, reads });
  await mkdir(paths.artifacts, { recursive: true, mode: 0o700 });
  const madeAt = new Date(plan.createdAt);
  for (const [name, content] of artifacts) {
    await writeFile(join(paths.artifacts, name), content, { mode: 0o600 });
    // As old as the plan: a provider that trusts a fresh plan's checks must not take these for new.
    await utimes(join(paths.artifacts, name), madeAt, madeAt);
  }
}
