import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { statePaths } from '../paths.ts';
import { removePreviewState, removeUnknownPreviewStates, takePreviewStateFolder } from './state-folder.ts';

const root = mkdtempSync(join(tmpdir(), 'plumbline-preview-state-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CACHES = ['terraform-data'];

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
  const stable = paths.previewState('prod/net');
  // What an earlier preview left: its data dir (kept) and a stray file (not state of this preview).
  mkdirSync(join(stable, 'terraform-data'), { recursive: true });
  writeFileSync(join(stable, 'terraform-data', 'plumbline-init-fingerprint'), 'preview\n');
  writeFileSync(join(stable, 'stray'), 'x');
  const before = statSync(join(real, 'terraform.tfstate')).mtimeMs;

  const state = await takePreviewStateFolder(paths, 'prod/net', CACHES, join(root, 'a', 'scratch'));
  assert.equal(state.dir, stable);
  assert.equal(state.stable, true);
  assert.ok(stable.endsWith(join('previews', 'units', 'prod~net')), stable);
  assert.deepEqual(readdirSync(stable).sort(), ['terraform-data', 'terraform.tfstate']);
  assert.equal(readFileSync(join(stable, 'terraform.tfstate'), 'utf8'), '{"serial": 3}\n');
  assert.equal(readFileSync(join(stable, 'terraform-data', 'plumbline-init-fingerprint'), 'utf8'), 'preview\n', 'the preview folder\'s own data dir, not the real one');
  assert.equal(statSync(join(real, 'terraform.tfstate')).mtimeMs, before);

  await state.release();
  assert.deepEqual(readdirSync(stable), ['terraform-data'], 'between previews: caches only');
  assert.deepEqual(readdirSync(real).sort(), ['terraform-data', 'terraform.tfstate']);
});

test('a second preview of the unit meanwhile plans in a throw-away folder, with the same copy of the state', async () => {
  const paths = statePaths(join(root, 'b'));
  realUnit(paths, 'net');
  const scratch = join(root, 'b', 'runs', 'preview-2', 'preview-state');
  const first = await takePreviewStateFolder(paths, 'net', CACHES, join(root, 'b', 'runs', 'preview-1', 'preview-state'));
  const second = await takePreviewStateFolder(paths, 'net', CACHES, scratch);
  assert.equal(first.stable, true);
  assert.deepEqual([second.dir, second.stable], [scratch, false]);
  assert.deepEqual(readdirSync(scratch), ['terraform.tfstate']);
  await second.release();
  assert.equal(existsSync(scratch), false);
  // The stable folder is still the first preview's: a third one falls back too.
  const third = await takePreviewStateFolder(paths, 'net', CACHES, join(root, 'b', 'scratch-3'));
  assert.equal(third.stable, false);
  await third.release();
  await first.release();
  const fourth = await takePreviewStateFolder(paths, 'net', CACHES, join(root, 'b', 'scratch-4'));
  assert.equal(fourth.stable, true, 'free again once released');
  await fourth.release();
});

test('a unit\'s preview folder is removed with the unit, never under a preview that uses it', async () => {
  const paths = statePaths(join(root, 'c'));
  for (const unit of ['kept', 'gone', 'busy']) realUnit(paths, unit);
  for (const unit of ['kept', 'gone']) await (await takePreviewStateFolder(paths, unit, CACHES, join(root, 'c', `scratch-${unit}`))).release();
  const busy = await takePreviewStateFolder(paths, 'busy', CACHES, join(root, 'c', 'scratch-busy'));

  assert.equal(await removePreviewState(paths, 'busy'), false);
  assert.equal(await removeUnknownPreviewStates(paths, new Set(['kept'])), 1);
  assert.deepEqual(readdirSync(paths.previewStates).sort(), ['busy', 'kept']);
  await busy.release();
  assert.equal(await removePreviewState(paths, 'busy'), true);
  assert.deepEqual(readdirSync(paths.previewStates), ['kept']);
  assert.equal(await removeUnknownPreviewStates(statePaths(join(root, 'nothing')), new Set()), 0);
});
