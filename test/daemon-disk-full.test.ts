import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { waitFor } from '../testkit/wait.ts';

// The state directory on a small tmpfs of its own (the tests run as root), filled
// while an apply runs: the end of the apply cannot be written. The unit must not
// stay Applying with nothing running: once the disk has room again the run is
// recorded Interrupted, with the reason, and the unit planned again.
let mount: string;
let repo: TestRepo;
let daemon: TestDaemon;

before(() => {
  mount = mkdtempSync(join(tmpdir(), 'plumbline-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m,mode=0700', 'tmpfs', mount]);
  repo = new TestRepo();
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
  spawnSync('umount', [mount]);
  rmSync(mount, { recursive: true, force: true });
});

function fill(): void {
  // dd stops with "No space left on device": the tmpfs is then full.
  spawnSync('dd', ['if=/dev/zero', `of=${join(mount, 'filler')}`, 'bs=1M', 'count=64'], { stdio: 'ignore' });
}

test('a store write refused for a full disk at the end of an apply: Interrupted with the reason once there is room, then planned again', async () => {
  const head = repo.commit({
    'stacks/slow/stack.yaml': 'kind: terraform\napproval: auto\n',
    'stacks/slow/main.tf': 'resource "terraform_data" "slow" {\n  input = "full"\n  provisioner "local-exec" {\n    command = "sleep 4"\n  }\n}\n',
  });
  daemon = await TestDaemon.start({ sourceUrl: repo.url, stateDir: join(mount, 'state') });
  await waitFor(async () => (await daemon.plans('slow')).find((p) => p.status === 'Applying' && p.revision === head), { what: 'the apply to start' });
  fill();
  await waitFor(() => daemon.logs.includes('the end of the apply could not be recorded'), { what: 'the refused write', timeoutMs: 60_000 });
  const stuck = await daemon.unit('slow');
  assert.equal(stuck?.phase, 'Applying', 'what the disk holds until the store can write again');

  rmSync(join(mount, 'filler'));
  const plan = await waitFor(async () => (await daemon.plans('slow')).find((p) => p.status === 'Interrupted'), { what: 'the run recorded as interrupted', timeoutMs: 120_000 });
  assert.match(plan.error?.message ?? '', /could not be recorded \(E_STORE_WRITE/);
  // Planned again: the apply happened (or terraform could not save its state): either way the new plan settles the unit.
  const unit = await daemon.waitForUnit('slow', 'InSync', { timeoutMs: 120_000 });
  assert.equal(unit.lastAppliedRevision, head);
  assert.ok((await daemon.history('slow')).some((e) => e.type === 'interrupted'));
  assert.ok(existsSync(join(mount, 'state', 'plumbline.db')));
});
