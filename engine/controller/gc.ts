import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.ts';
import type { StatePaths } from '../paths.ts';
import type { Store } from '../store/store.ts';

/**
 * Keep the state directory from growing without bound. A snapshot is a whole
 * tree per commit: only the commits something still refers to are kept (the
 * head, each unit's last attempted and applied commit, plans that may still be
 * applied). A run folder is kept while a plan record points at it; folders of
 * runs cut off before they recorded a plan (a crash) are removed.
 */
export async function collectGarbage(
  store: Store,
  paths: StatePaths,
  keep: { revisions: Iterable<string | null | undefined>; runs: ReadonlySet<string> },
  log: Logger,
): Promise<void> {
  const revisions = new Set<string>();
  for (const r of keep.revisions) if (r) revisions.add(r);
  for (const unit of store.listUnits()) {
    if (unit.lastAppliedRevision) revisions.add(unit.lastAppliedRevision);
    if (unit.lastAttemptedRevision) revisions.add(unit.lastAttemptedRevision);
  }
  const recorded = new Set<string>();
  for (const plan of store.listPlans()) {
    recorded.add(plan.runId);
    if (plan.status === 'Pending' || plan.status === 'Approved' || plan.status === 'Applying') revisions.add(plan.revision);
  }
  const removed = {
    // A `.partial-` folder may be an extraction a running run is waiting for; with
    // nothing running (at start-up) it is a crash's leftover.
    snapshots: await removeExcept(paths.snapshots, (name) => revisions.has(name) || (name.includes('.partial-') && keep.runs.size > 0)),
    // The live set is read at each name: a run that started meanwhile is kept.
    runs: await removeExcept(paths.runs, (name) => recorded.has(name) || keep.runs.has(name)),
  };
  if (removed.snapshots + removed.runs > 0) log.debug(removed, 'state directory cleaned');
}

async function removeExcept(dir: string, keep: (name: string) => boolean): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (keep(name)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}
