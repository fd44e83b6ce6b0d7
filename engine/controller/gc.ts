import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import { unitFileName, type StatePaths } from '../paths.ts';
import { removeUnknownPreviewStates } from '../previews/state-folder.ts';
import type { Store } from '../store/types.ts';
import { LIVE_PLAN_STATUSES } from './transitions.ts';

/** Run folders looked up in the store at once. */
const RUN_BATCH = 500;

/**
 * Keep the state directory from growing without bound. A snapshot is a whole
 * tree per commit: only the commits something still refers to are kept (the
 * head, each unit's last attempted and applied commit, plans that may still be
 * applied, queued runs). A run folder is kept while a plan record points at
 * it (retention deletes old plans, and their folders with them); folders of
 * runs cut off before they recorded a plan (a crash) are removed. A preview
 * state folder is kept while a preview uses it, or while the store knows its
 * unit and its ref is still previewed (state-folder.ts).
 */
export async function collectGarbage(
  store: Store,
  paths: StatePaths,
  keep: { revisions: Iterable<string | null | undefined>; runs: ReadonlySet<string> },
  log: Logger,
): Promise<void> {
  const revisions = new Set<string>();
  for (const r of keep.revisions) if (r) revisions.add(r);
  const units = new Set<string>();
  for (const unit of await store.listUnits()) {
    units.add(unitFileName(unit.name));
    if (unit.lastAppliedRevision) revisions.add(unit.lastAppliedRevision);
    if (unit.lastAttemptedRevision) revisions.add(unit.lastAttemptedRevision);
  }
  for (const plan of await store.listPlans({ status: LIVE_PLAN_STATUSES })) revisions.add(plan.revision);
  const previewRefs = new Set<string>();
  for (const plan of await store.listPlans({ status: ['Preview'] })) if (plan.preview) previewRefs.add(plan.preview.ref);
  for (const run of await store.listRuns()) revisions.add(run.revision);
  const removed = {
    // A `.partial-` folder of this process is an extraction under way (a run or
    // a reconcile waits for it, and it removes its own leftovers); another
    // process's is a crash's leftover.
    snapshots: await removeExcept(paths.snapshots, async (names) => names.filter((name) => revisions.has(name) || name.includes(`.partial-${process.pid}-`))),
    runs: await removeExcept(paths.runs, async (names) => {
      const recorded = new Set<string>();
      for (let i = 0; i < names.length; i += RUN_BATCH) {
        for (const plan of await store.listPlans({ runIds: names.slice(i, i + RUN_BATCH) })) recorded.add(plan.runId);
      }
      // The live set is read at the end: a run that started meanwhile is kept.
      return names.filter((name) => recorded.has(name) || keep.runs.has(name));
    }),
    // The refs of the preview plans the store holds are still previewed (a ref gone takes its plans away).
    previewStates: await removeUnknownPreviewStates(paths, units, previewRefs),
  };
  if (removed.snapshots + removed.runs + removed.previewStates > 0) log.debug(removed, 'state directory cleaned');
}

/** Retention: old plans and events leave the store, and the plans' run folders go with them. */
export async function applyRetention(store: Store, paths: StatePaths, cutoffs: { plansBefore: Date; historyBefore: Date }, log: Logger): Promise<void> {
  const pruned = await store.prune(cutoffs);
  for (const runId of pruned.runIds) await rm(paths.run(runId), { recursive: true, force: true });
  if (pruned.plans + pruned.events > 0) log.info({ plans: pruned.plans, events: pruned.events }, 'retention: old plans and history removed');
}

async function removeExcept(dir: string, keep: (names: string[]) => Promise<string[]>): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  const kept = new Set(await keep(names));
  let removed = 0;
  for (const name of names) {
    if (kept.has(name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
