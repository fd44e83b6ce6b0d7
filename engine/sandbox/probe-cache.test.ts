import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { probedBefore, probeKey, rememberSuccess } from './probe-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'plumbline-probe-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of a real executable stands for bwrap: only its path, size and time matter here. */
function binary(name: string): string {
  const path = join(dir, name);
  copyFileSync('/bin/true', path);
  return path;
}

test('a remembered success holds for the same binary, and only once it was remembered', async () => {
  const bwrap = binary('same');
  const file = join(dir, 'same.json');
  const key = (await probeKey(bwrap))!;
  assert.equal(await probedBefore(file, key), false);
  await rememberSuccess(file, key);
  assert.equal(await probedBefore(file, (await probeKey(bwrap))!), true);
});

test('a changed binary is probed again: another size, another modification time, another path', async () => {
  const bwrap = binary('changed');
  const file = join(dir, 'changed.json');
  await rememberSuccess(file, (await probeKey(bwrap))!);

  const moved = binary('moved');
  utimesSync(moved, new Date(), (await probeKey(bwrap))!.mtimeMs / 1000);
  assert.equal(await probedBefore(file, (await probeKey(moved))!), false, 'another path');

  const later = new Date(Date.now() + 60_000);
  utimesSync(bwrap, later, later);
  assert.equal(await probedBefore(file, (await probeKey(bwrap))!), false, 'another modification time');

  await rememberSuccess(file, (await probeKey(bwrap))!);
  appendFileSync(bwrap, '\n');
  utimesSync(bwrap, later, later);
  assert.equal(await probedBefore(file, (await probeKey(bwrap))!), false, 'another size');
});

test('another kernel, user or namespace setting is probed again', async () => {
  const bwrap = binary('host');
  const file = join(dir, 'host.json');
  const key = (await probeKey(bwrap))!;
  await rememberSuccess(file, key);
  assert.equal(await probedBefore(file, { ...key, kernel: `${key.kernel}-other` }), false);
  assert.equal(await probedBefore(file, { ...key, uid: key.uid + 1 }), false);
  assert.equal(await probedBefore(file, { ...key, userns: { ...key.userns, '/proc/sys/user/max_user_namespaces': '0' } }), false);
});

test('a missing binary has no key; a damaged or foreign memory file is no success', async () => {
  assert.equal(await probeKey(join(dir, 'absent')), null);
  const key = (await probeKey(binary('damaged')))!;
  const file = join(dir, 'damaged.json');
  writeFileSync(file, '{"format":1,"ok":tr');
  assert.equal(await probedBefore(file, key), false);
  writeFileSync(file, JSON.stringify({ format: 1, ok: false, key }));
  assert.equal(await probedBefore(file, key), false);
});
