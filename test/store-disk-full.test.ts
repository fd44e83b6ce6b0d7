import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PlumblineError } from '../engine/errors.ts';
import { silentLogger } from '../engine/log.ts';
import { openStore } from '../engine/store/open.ts';
import type { SqlStore } from '../engine/store/sql/sql-store.ts';
import { historyEvent, storedPlan, unitStatus } from '../testkit/store-fixtures.ts';

/**
 * A full disk, for real: the state directory on a 2 MiB tmpfs (the tests run
 * as root), filled to the last byte by another file. A write that cannot be
 * made rejects typed and transient, and leaves the database as it was; once
 * there is room again, the same write goes through.
 */

let mountPoint: string;
let mounted = false;
before(() => {
  mountPoint = mkdtempSync(join(tmpdir(), 'plumbline-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mountPoint]);
  mounted = true;
});
after(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Fill the file system: write until ENOSPC. Returns the filler's path. */
function fillDisk(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return file;
}

/** What an apply's end writes in one transaction: the unit, its plan (a large record) and the event. */
const applied = (store: SqlStore) =>
  store.write(async (tx) => {
    await tx.putUnit(unitStatus('web', { phase: 'InSync', reason: 'Applied', planId: 'web-2' }));
    await tx.putPlan(storedPlan('web-2', { status: 'Applied', warnings: Array.from({ length: 64 }, (_, i) => `warning ${i} ${'w'.repeat(4000)}`) }));
    await tx.appendHistory(historyEvent('web', 'applied', { type: 'applied', planId: 'web-2' }));
  });

test('a write on a full disk rejects as transient E_STORE_WRITE, keeps nothing, and succeeds once there is room', async () => {
  const config = { stateDir: join(mountPoint, 'state') };
  let store = await openStore(config, silentLogger);
  try {
    await store.write(async (tx) => {
      await tx.putUnit(unitStatus('web', { phase: 'Applying', planId: 'web-2' }));
      await tx.putPlan(storedPlan('web-2', { status: 'Applying' }));
      await tx.appendHistory(historyEvent('web', 'apply started', { type: 'apply-started', planId: 'web-2' }));
    });
    const filler = fillDisk(mountPoint);

    await assert.rejects(applied(store), (error: PlumblineError) => {
      assert.equal(error.code, 'E_STORE_WRITE');
      assert.equal(error.retry, 'transient');
      assert.match(String((error.cause as { code?: string }).code), /^SQLITE_(FULL|IOERR)/);
      assert.ok(error.message.includes(join(config.stateDir, 'plumbline.db')), error.message);
      assert.match(error.hint ?? '', /free disk space/);
      return true;
    });
    const unchanged = async (s: SqlStore) => {
      assert.equal((await s.getUnit('web'))?.phase, 'Applying');
      assert.equal((await s.getPlan('web-2'))?.status, 'Applying');
      assert.deepEqual((await s.listHistory()).map((e) => e.type), ['apply-started']);
    };
    await unchanged(store);
    // Still full: the same write fails the same way, and the store is still as it was.
    await assert.rejects(applied(store), (error: PlumblineError) => error.code === 'E_STORE_WRITE');
    await unchanged(store);
    // What is on disk, as another store (a restarted daemon) reads it.
    const other = await openStore(config, silentLogger);
    try {
      await unchanged(other);
    } finally {
      await other.close();
    }

    rmSync(filler);
    await applied(store);
    assert.equal((await store.getUnit('web'))?.phase, 'InSync');
    assert.equal((await store.getPlan('web-2'))?.status, 'Applied');
    assert.deepEqual((await store.listHistory()).map((e) => e.type), ['applied', 'apply-started']);
    await store.close();
    store = await openStore(config, silentLogger);
    assert.equal((await store.getUnit('web'))?.phase, 'InSync');
  } finally {
    await store.close().catch(() => undefined);
  }
});
