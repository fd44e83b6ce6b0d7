import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { cacheFolderOf, localPlanState, pruneUnused } from './local-plan-cache.ts';
import { statePaths } from './paths.ts';

const home = mkdtempSync(join(tmpdir(), 'plumbline-plan-cache-'));
after(() => rmSync(home, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
const DAY = 86_400_000;

function planFolder(name: string, lastUsedDaysAgo: number | undefined, folderDaysAgo = 0): string {
  const dir = join(home, 'plumbline', name);
  mkdirSync(dir, { recursive: true });
  const folderTime = new Date(Date.now() - folderDaysAgo * DAY);
  if (lastUsedDaysAgo !== undefined) {
    const file = join(dir, 'last-used');
    writeFileSync(file, '');
    const time = new Date(Date.now() - lastUsedDaysAgo * DAY);
    utimesSync(file, time, time);
  }
  utimesSync(dir, folderTime, folderTime);
  return dir;
}

test('plan folders unused for 30 days are removed, recent, locked and foreign ones are kept', async () => {
  const old = planFolder('plan-00000000000000aa', 40);
  const recent = planFolder('plan-00000000000000bb', 2, 90);
  const legacy = planFolder('plan-00000000000000cc', undefined, 60);
  const busy = planFolder('plan-00000000000000dd', 45);
  const other = planFolder('notes', undefined, 400);
  // A plan of another live process (our parent, which certainly runs) holds it.
  writeFileSync(statePaths(busy).lockFile, `${process.ppid}\n`);
  const removed = await pruneUnused(join(home, 'plumbline'), { log });
  assert.deepEqual(removed.sort(), ['plan-00000000000000aa', 'plan-00000000000000cc']);
  assert.equal(existsSync(old), false);
  assert.equal(existsSync(legacy), false);
  assert.equal(existsSync(recent), true);
  assert.equal(existsSync(busy), true, 'a folder a plan holds is not removed');
  assert.equal(existsSync(other), true, 'only plan folders are touched');
});

test('a plan marks its folder used and prunes the others when it releases it', async () => {
  const env = { ...process.env };
  process.env.XDG_CACHE_HOME = home;
  try {
    const stale = planFolder('plan-00000000000000ee', 31);
    const state = await localPlanState('/some/checkout', join(home, 'scratch'), log);
    assert.equal(state.persistent, true);
    assert.equal(state.stateDir, cacheFolderOf('/some/checkout'));
    assert.equal(existsSync(join(state.stateDir, 'last-used')), true);
    assert.equal(existsSync(stale), true, 'nothing is removed before the plan ends');
    await state.release();
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(state.stateDir), true, 'its own folder stays');
  } finally {
    process.env = env;
  }
});
