import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { OutputSource } from '../definitions/references.ts';
import { readsOf } from '../definitions/reads.ts';
import type { UnitDefinition } from '../definitions/types.ts';
import { runPaths } from '../paths.ts';
import type { OutputValue } from '../provider.ts';
import { secrets } from '../secrets.ts';
import { outputsFromStore, type OutputsReader } from '../controller/inputs.ts';
import { planId } from '../controller/plan-id.ts';
import { prepare, readArtifacts, storedPlanOf, uniquePlanId } from '../controller/plan-run.ts';
import type { Runtime } from '../controller/runtime.ts';
import * as t from '../controller/transitions.ts';
import type { StoredPlan } from '../store/types.ts';
import { takePreviewStateFolder, type PreviewStateFolder } from './state-folder.ts';

/** What a dependant receives for an upstream output the plan cannot know before the apply. */
export const KNOWN_AFTER_APPLY = '(known after apply)';

/** Lines of the rendered plan a preview shows (the forge comment, the CLI). */
const EXCERPT_LINES = 30;

export interface PreviewPlanned {
  plan: StoredPlan;
  /** The outputs the unit would have once applied (absent values: known after apply); undefined when the tool cannot say. */
  plannedOutputs?: Record<string, OutputValue>;
  excerpt: string;
}

/**
 * Upstream outputs for a preview: a unit the same preview planned gives the
 * outputs its plan expects (an unknown value reads "(known after apply)"),
 * any other gives its applied outputs, as a plan of the watched branch would.
 */
export function previewOutputs(planned: ReadonlyMap<string, Record<string, OutputValue> | undefined>, applied: OutputsReader): OutputsReader {
  return async (unit) => {
    if (!planned.has(unit)) return applied(unit);
    const outputs = planned.get(unit);
    // The upstream's tool cannot say what its outputs will be: all known only after the apply.
    const base = outputs ?? (await applied(unit)) ?? {};
    const resolved: Record<string, OutputSource> = {};
    for (const [name, output] of Object.entries(base)) {
      const known = outputs ? output.value !== undefined : false;
      if (known && output.sensitive) secrets.add(output.value);
      resolved[name] = { value: known ? output.value : KNOWN_AFTER_APPLY, sensitive: output.sensitive };
    }
    return resolved;
  };
}

/**
 * Plan one unit of a preview: the branch's code, in the sandbox every run
 * has, against a copy of the unit's state in its preview folder of the ref (the real
 * state is never handed to the tool, so a preview can neither lock it nor
 * write it: state-folder.ts). The plan is recorded with status `Preview`; the
 * unit's own record is left alone.
 */
export async function planPreviewUnit(
  rt: Runtime,
  job: { unit: UnitDefinition; ref: string; revision: string; planned: ReadonlyMap<string, Record<string, OutputValue> | undefined>; signal: AbortSignal },
): Promise<PreviewPlanned> {
  const { unit, revision, signal } = job;
  const runId = `preview-${randomUUID().slice(0, 12)}`;
  const runDir = rt.paths.run(runId);
  let prepared;
  let state: PreviewStateFolder | undefined;
  // Never cleaned up under the run, from its first folder on.
  rt.activeRuns.add(runId);
  try {
    state = await takePreviewStateFolder(rt.paths, unit.name, job.ref, rt.provider(unit.kind).stateDirCaches ?? [], join(runDir, 'preview-state'));
    rt.log.debug({ unit: unit.name, ref: job.ref, stateDir: state.dir, stable: state.stable }, 'preview: planning against a copy of the state');
    const snapshot = await rt.source.snapshot(revision);
    const reads = await readsOf(unit, revision, snapshot, rt.provider(unit.kind), rt.log);
    prepared = await prepare(rt, unit, revision, signal, {
      runId,
      reads: reads.entries.map((e) => e.path),
      outputs: previewOutputs(job.planned, outputsFromStore(rt.store)),
      unitStateDir: state.dir,
      // State kept elsewhere (a backend of the stack's own, the shared state database) is read, never locked.
      preview: true,
    });
  } catch (error) {
    rt.activeRuns.delete(runId);
    await state?.release().catch((err: unknown) => rt.log.warn({ unit: unit.name, err: String(err) }, 'preview: its state folder was not emptied'));
    await rm(runDir, { recursive: true, force: true });
    throw error;
  }
  try {
    const outcome = prepared.outcome;
    const id = await uniquePlanId(rt, `${planId({ unit: unit.name, revision, inputsHash: prepared.inputs.inputsHash, fingerprint: outcome.fingerprint })}`);
    const hasChanges = outcome.hasChanges || (outcome.uncertain?.length ?? 0) > 0;
    const plan = await storedPlanOf(prepared, unit, id, { status: 'Preview', hasChanges, preview: { ref: job.ref } }, { inStore: true });
    const artifacts = await readArtifacts(prepared.request.artifactsDir);
    signal.throwIfAborted();
    const stored = await rt.commit(async (tx) => {
      const recorded = await t.previewRecorded(tx, plan);
      await tx.putArtifacts(plan.id, artifacts);
      return recorded;
    });
    const plannedOutputs = outcome.hasChanges ? outcome.plannedOutputs : (outcome.outputs ?? outcome.plannedOutputs);
    const excerpt = secrets.maskText(outcome.rendered).split('\n').slice(0, EXCERPT_LINES).join('\n');
    return { plan: stored, ...(plannedOutputs ? { plannedOutputs } : {}), excerpt };
  } finally {
    rt.activeRuns.delete(runId);
    // Only the plan's artifacts stay: the workspace and the state copy go (the tool's caches stay in the preview folder).
    await rm(runPaths(runDir).tree, { recursive: true, force: true });
    await state.release();
  }
}
