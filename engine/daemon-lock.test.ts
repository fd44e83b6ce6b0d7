import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { acquireDaemonLock } from './daemon-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'plumbline-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a second daemon is refused while the first lives; the lock is released on stop', async () => {
  const file = join(dir, 'a.lock');
  const release = await acquireDaemonLock(file);
  assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
  // A live foreign owner (our parent, which certainly runs) holds the lock.
  writeFileSync(file, `${process.ppid}\n`);
  await assert.rejects(acquireDaemonLock(file), (e: { code: string }) => e.code === 'E_STATE_DIR_LOCKED');
  writeFileSync(file, `${process.pid}\n`);
  await release();
  assert.equal(existsSync(file), false);
});

test('a lock left by a dead process is taken over', async () => {
  const file = join(dir, 'b.lock');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  writeFileSync(file, `${dead}\n`);
  const release = await acquireDaemonLock(file);
  assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
  await release();
});

test('concurrent takeovers of a stale lock leave exactly one owner', async () => {
  const file = join(dir, 'c.lock');
  writeFileSync(file, '999999999\n');
  const results = await Promise.allSettled([acquireDaemonLock(file), acquireDaemonLock(file)]);
  // Both run in this one process, so both see "our own pid": at least one must win,
  // and the file must name this process either way.
  assert.ok(results.some((r) => r.status === 'fulfilled'));
  assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
});
