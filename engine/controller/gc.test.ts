import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../log.ts';
import { statePaths } from '../paths.ts';
import { PREVIEW_FOLDER_GRACE_MS, previewRefKey } from '../previews/state-folder.ts';
import { openStore } from '../store/open.ts';
import { collectGarbage } from './gc.ts';

const root = mkdtempSync(join(tmpdir(), 'plumbline-gc-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('only snapshots, run folders and preview folders that something refers to are kept', async () => {
  const paths = statePaths(root);
  const ours = `x.partial-${process.pid}-1`;
  const crashed = `x.partial-${process.pid + 1}-1`;
  for (const name of ['head', 'applied', 'pending', 'old', ours, crashed]) mkdirSync(join(paths.snapshots, name), { recursive: true });
  for (const name of ['run-recorded', 'run-active', 'run-orphan']) mkdirSync(join(paths.runs, name), { recursive: true });
  const old = new Date(Date.now() - 2 * PREVIEW_FOLDER_GRACE_MS);
  for (const unit of ['u', 'pruned']) {
    for (const ref of ['refs/heads/open', 'refs/heads/closed', 'refs/heads/recent']) {
      mkdirSync(join(paths.previewState(unit, previewRefKey(ref)), 'terraform-data'), { recursive: true });
      if (ref !== 'refs/heads/recent') utimesSync(paths.previewState(unit, previewRefKey(ref)), old, old);
    }
  }
  const store = await openStore({ stateDir: root }, silentLogger);
  after(() => store.close());
  const now = new Date().toISOString();
  await store.write(async (tx) => {
    await tx.putUnit({ name: 'u', kind: 'terraform', path: 'stacks/u', phase: 'InSync', reason: 'Applied', message: '', lastAttemptedRevision: 'applied', lastAppliedRevision: 'applied', planId: null, updatedAt: now });
    await tx.putPlan({
      id: 'u-1', runId: 'run-recorded', unit: 'u', kind: 'terraform', revision: 'pending', status: 'Pending',
      summary: { add: 1, change: 0, destroy: 0, replace: 0 }, hasChanges: true, destructive: false, approval: 'manual',
      applyAt: null, createdAt: now, updatedAt: now, inputsHash: 'h',
    });
    await tx.putPlan({
      id: 'u-preview', runId: 'preview-1', unit: 'u', kind: 'terraform', revision: 'branch', status: 'Preview',
      summary: { add: 0, change: 0, destroy: 0, replace: 0 }, hasChanges: false, destructive: false, approval: 'manual',
      applyAt: null, createdAt: now, updatedAt: now, inputsHash: 'h', preview: { ref: 'refs/heads/open' },
    });
  });
  await collectGarbage(store, paths, { revisions: ['head'], runs: new Set(['run-active']) }, silentLogger);
  // An extraction of this process is under way, whether or not a run waits for it (a reconcile does too).
  for (const kept of ['head', 'applied', 'pending', ours]) assert.ok(existsSync(join(paths.snapshots, kept)), kept);
  assert.equal(existsSync(join(paths.snapshots, 'old')), false);
  // Another process's partial extraction is a crash's leftover.
  assert.equal(existsSync(join(paths.snapshots, crashed)), false);
  assert.ok(existsSync(join(paths.runs, 'run-recorded')));
  assert.ok(existsSync(join(paths.runs, 'run-active')));
  assert.equal(existsSync(join(paths.runs, 'run-orphan')), false);
  // A unit's preview folders go with the unit; a known unit's those of refs not previewed any more (no preview plan, unused for long).
  assert.ok(existsSync(paths.previewState('u', previewRefKey('refs/heads/open'))));
  assert.ok(existsSync(paths.previewState('u', previewRefKey('refs/heads/recent'))), 'used lately: a newer head of the ref may be about to plan');
  assert.equal(existsSync(paths.previewState('u', previewRefKey('refs/heads/closed'))), false);
  assert.equal(existsSync(paths.previewUnitStates('pruned')), false);
  await collectGarbage(store, paths, { revisions: ['head'], runs: new Set() }, silentLogger);
  assert.ok(existsSync(join(paths.snapshots, ours)), 'nothing runs, but the extraction is still under way');
});
