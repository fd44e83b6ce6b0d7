import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';

// The CLI against the real daemon: a decision that decides nothing is an
// error, and a change set is named the way `status` shows its commit.

let repo: TestRepo;
let daemon: TestDaemon;

before(async () => {
  repo = new TestRepo();
  daemon = await TestDaemon.start({ sourceUrl: repo.url, approval: 'manual' });
});
after(async () => {
  await daemon.dispose();
  repo.dispose();
});

test('approving an applied plan, or rejecting a rejected one, exits 1 and says nothing was decided', async () => {
  const first = repo.commit(helloStack({ approval: 'manual', value: 'one' }), 'hello, manual');
  await daemon.sync();
  const waiting = await daemon.waitForUnit('hello', 'AwaitingApproval', { revision: first });
  const approve = daemon.cli(['approve', waiting.planId!]);
  assert.equal(approve.code, 0, approve.stderr);
  assert.match(approve.stdout, /approved by bootstrap/);
  await daemon.waitForUnit('hello', 'InSync', { revision: first });

  const again = daemon.cli(['approve', waiting.planId!]);
  assert.equal(again.code, 1, again.stdout);
  assert.match(again.stderr, new RegExp(`^error: cannot approve plan ${waiting.planId}: it is already applied \\(approved by bootstrap at .*\\)$`, 'm'));
  assert.match(again.stderr, /^hint: only a Pending plan can be approved or rejected$/m);

  const second = repo.commit(helloStack({ approval: 'manual', value: 'two' }), 'hello two');
  await daemon.sync();
  const next = await daemon.waitForUnit('hello', 'AwaitingApproval', { revision: second });
  const reject = daemon.cli(['reject', next.planId!]);
  assert.equal(reject.code, 0, reject.stderr);
  const twice = daemon.cli(['reject', next.planId!, '--json']);
  assert.equal(twice.code, 1);
  const error = (JSON.parse(twice.stdout) as { error: { code: string; message: string; retry?: string } }).error;
  assert.equal(error.code, 'E_PLAN_NOT_PENDING');
  assert.match(error.message, /: it was already rejected by bootstrap at \S+$/);
  assert.equal(error.retry, undefined);
});

test('changesets lists what each commit set in motion, and show takes the revision status prints', async () => {
  const { units } = await daemon.status();
  const revision = units.find((u) => u.name === 'hello')!.lastAttemptedRevision!;
  const list = daemon.cli(['changesets']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ID\s+REVISION\s+CREATED\s+APPROVED BY\s+UNITS$/m);
  assert.match(list.stdout, new RegExp(`^cs-${revision.slice(0, 12)}\\s+${revision.slice(0, 8)}\\s+\\S+ \\S+\\s+-\\s+hello$`, 'm'));

  const status = daemon.cli(['status']);
  assert.match(status.stdout, new RegExp(`^hello\\s+terraform\\s+\\S+\\s+${revision.slice(0, 8)}\\s`, 'm'));
  const show = daemon.cli(['show', `cs-${revision.slice(0, 8)}`]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`^Change set cs-${revision.slice(0, 12)} \\(commit ${revision.slice(0, 8)}\\)`, 'm'));
});
