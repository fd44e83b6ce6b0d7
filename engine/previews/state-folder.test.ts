import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { statePaths } from '../paths.ts';
import { PREVIEW_FOLDER_GRACE_MS, previewRefKey, removePreviewState, removePreviewStatesOfRef, removeUnknownPreviewStates, takePreviewStateFolder } from './state-folder.ts';

const root = mkdtempSync(join(tmpdir(), 'plumbline-preview-state-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CACHES = ['terraform-data'];
const A = 'refs/heads/a';
const B = 'refs/heads/b';

/** A unit's real state folder: its state and its own data dir. */
function realUnit(paths: ReturnType<typeof statePaths>, unit: string): string {
  const real = paths.unitState(unit);
  mkdirSync(join(real, 'terraform-data', 'providers'), { recursive: true });
  writeFileSync(join(real, 'terraform-data', 'plumbline-init-fingerprint'), 'real\n');
  writeFileSync(join(real, 'terraform.tfstate'), '{"serial": 3}\n');
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(join(real, 'terraform.tfstate'), old, old);
  return real;
}

test('a preview plans in the unit\'s own preview folder: its caches kept, the real state copied in without the real caches, emptied of state afterwards', async () => {
  const paths = statePaths(join(root, 'a'));
  const real = realUnit(paths, 'prod/net');
  const stable = paths.previewState('prod/net', previewRefKey(A));
  // What an earlier preview left: its data dir (kept) and a stray file (not state of this preview).
  mkdirSync(join(stable, 'terraform-data'), { recursive: true });
  writeFileSync(join(stable, 'terraform-data', 'plumbline-init-fingerprint'), 'preview\n');
  writeFileSync(join(stable, 'stray'), 'x');
  const before = statSync(join(real, 'terraform.tfstate')).mtimeMs;

  const state = await takePreviewStateFolder(paths, 'prod/net', A, CACHES, join(root, 'a', 'scratch'));
  assert.equal(state.dir, stable);
  assert.equal(state.stable, true);
  assert.ok(stable.endsWith(join('previews', 'units', 'prod~net', previewRefKey(A))), stable);
  assert.deepEqual(readdirSync(stable).sort(), ['terraform-data', 'terraform.tfstate']);
  assert.equal(readFileSync(join(stable, 'terraform.tfstate'), 'utf8'), '{"serial": 3}\n');
  assert.equal(readFileSync(join(stable, 'terraform-data', 'plumbline-init-fingerprint'), 'utf8'), 'preview\n', 'the preview folder\'s own data dir, not the real one');
  assert.equal(statSync(join(real, 'terraform.tfstate')).mtimeMs, before);

  await state.release();
  assert.deepEqual(readdirSync(stable), ['terraform-data'], 'between previews: caches only');
  assert.deepEqual(readdirSync(real).sort(), ['terraform-data', 'terraform.tfstate']);
});

test('a second preview of the unit and ref meanwhile plans in a throw-away folder, with the same copy of the state', async () => {
  const paths = statePaths(join(root, 'b'));
  realUnit(paths, 'net');
  const scratch = join(root, 'b', 'runs', 'preview-2', 'preview-state');
  const first = await takePreviewStateFolder(paths, 'net', A, CACHES, join(root, 'b', 'runs', 'preview-1', 'preview-state'));
  const second = await takePreviewStateFolder(paths, 'net', A, CACHES, scratch);
  assert.equal(first.stable, true);
  assert.deepEqual([second.dir, second.stable], [scratch, false]);
  assert.deepEqual(readdirSync(scratch), ['terraform.tfstate']);
  await second.release();
  assert.equal(existsSync(scratch), false);
  // The stable folder is still the first preview's: a third one falls back too.
  const third = await takePreviewStateFolder(paths, 'net', A, CACHES, join(root, 'b', 'scratch-3'));
  assert.equal(third.stable, false);
  await third.release();
  await first.release();
  const fourth = await takePreviewStateFolder(paths, 'net', A, CACHES, join(root, 'b', 'scratch-4'));
  assert.equal(fourth.stable, true, 'free again once released');
  await fourth.release();
});

test('the ref key is a fixed-length hash: no ref name shapes a path, and every ref has its own', () => {
  const keys = ['refs/heads/a', 'refs/heads/b', 'refs/heads/../../units/net', 'refs/pull/7/head'].map(previewRefKey);
  for (const key of keys) assert.match(key, /^[0-9a-f]{24}$/);
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(previewRefKey('refs/heads/a'), keys[0], 'stable across calls (and restarts)');
});

test('each ref has its own preview folder of a unit: what one branch leaves in its data dir never reaches another branch', async () => {
  const paths = statePaths(join(root, 'refs'));
  realUnit(paths, 'net');
  const a = await takePreviewStateFolder(paths, 'net', A, CACHES, join(root, 'refs', 'scratch-a'));
  mkdirSync(join(a.dir, 'terraform-data', 'providers'), { recursive: true });
  writeFileSync(join(a.dir, 'terraform-data', 'providers', 'planted'), 'evil');
  writeFileSync(join(a.dir, 'terraform-data', 'plumbline-init-fingerprint'), 'forged\n');
  await a.release();
  // Another branch, even while branch A plans: its own stable folder, no data dir of A's.
  const again = await takePreviewStateFolder(paths, 'net', A, CACHES, join(root, 'refs', 'scratch-a2'));
  const b = await takePreviewStateFolder(paths, 'net', B, CACHES, join(root, 'refs', 'scratch-b'));
  assert.equal(b.stable, true);
  assert.notEqual(b.dir, again.dir);
  assert.deepEqual(readdirSync(b.dir), ['terraform.tfstate'], 'branch B starts without a data dir');
  // Branch A finds what it left itself (so its next preview skips init).
  assert.equal(again.stable, true);
  assert.equal(readFileSync(join(again.dir, 'terraform-data', 'providers', 'planted'), 'utf8'), 'evil');
  await again.release();
  await b.release();
  assert.deepEqual(readdirSync(paths.previewUnitStates('net')).sort(), [previewRefKey(A), previewRefKey(B)].sort());
});

test('a unit\'s preview folders are removed with the unit, those of a ref with the ref, never under a preview that uses them', async () => {
  const paths = statePaths(join(root, 'c'));
  for (const unit of ['kept', 'gone', 'busy']) realUnit(paths, unit);
  for (const unit of ['kept', 'gone']) for (const ref of [A, B]) await (await takePreviewStateFolder(paths, unit, ref, CACHES, join(root, 'c', 'scratch'))).release();
  const busy = await takePreviewStateFolder(paths, 'busy', A, CACHES, join(root, 'c', 'scratch-busy'));

  assert.equal(await removePreviewState(paths, 'busy'), false);
  // Unit `gone` is unknown: both its refs go; `busy` too, but its folder is in use. Both refs recent: kept for `kept`.
  assert.equal(await removeUnknownPreviewStates(paths, new Set(['kept']), []), 2);
  assert.deepEqual(readdirSync(paths.previewStates).sort(), ['busy', 'kept']);
  assert.deepEqual(readdirSync(paths.previewUnitStates('busy')), [previewRefKey(A)]);
  // Past the grace, only the refs still previewed stay.
  assert.equal(await removeUnknownPreviewStates(paths, new Set(['kept', 'busy']), [A], Date.now() + PREVIEW_FOLDER_GRACE_MS + 1000), 1);
  assert.deepEqual(readdirSync(paths.previewUnitStates('kept')), [previewRefKey(A)]);
  // A ref gone: its folders go, but the one in use.
  assert.equal(await removePreviewStatesOfRef(paths, A), 1);
  assert.deepEqual(readdirSync(paths.previewStates), ['busy']);
  assert.equal(existsSync(paths.previewUnitStates('kept')), false, 'an emptied unit folder goes too');
  await busy.release();
  assert.equal(await removePreviewState(paths, 'busy'), true);
  assert.deepEqual(readdirSync(paths.previewStates), []);
  assert.equal(await removeUnknownPreviewStates(statePaths(join(root, 'nothing')), new Set(), []), 0);
});
