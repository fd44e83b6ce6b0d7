import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A stack whose apply takes a while (so a test can stop the daemon mid-apply). */
function slowStack(seconds: number, marker: string): Record<string, string> {
  return {
    'stacks/slow/stack.yaml': 'kind: terraform\napproval: auto\n',
    'stacks/slow/main.tf': `resource "terraform_data" "slow" {\n  input = "${marker}"\n  provisioner "local-exec" {\n    command = "sleep ${seconds}"\n  }\n}\n`,
  };
}

test('a restart keeps plans, approvals and history', async () => {
  const repo = new TestRepo();
  cleanups.push(() => repo.dispose());
  const rev = repo.commit({ ...helloStack({ name: 'kept' }), ...helloStack({ name: 'manual', approval: 'manual' }) });
  let daemon = await TestDaemon.start({ sourceUrl: repo.url });
  cleanups.push(() => daemon.dispose());
  await daemon.waitForUnit('kept', 'InSync', { revision: rev });
  const waiting = await daemon.waitForUnit('manual', 'AwaitingApproval', { revision: rev });
  const plansBefore = await daemon.plans();
  const historyBefore = await daemon.history();
  assert.equal(await daemon.stop(), 0, 'SIGTERM exits 0');

  daemon = await TestDaemon.start({ sourceUrl: repo.url, stateDir: daemon.stateDir });
  cleanups.push(() => daemon.dispose());
  assert.deepEqual(
    (await daemon.plans()).map((p) => [p.id, p.status]),
    plansBefore.map((p) => [p.id, p.status]),
  );
  const historyAfter = await daemon.history();
  for (const event of historyBefore) assert.ok(historyAfter.some((e) => e.seq === event.seq && e.type === event.type));
  // The pending plan survived and can still be approved after the restart.
  const approve = daemon.cli(['approve', waiting.planId!]);
  assert.equal(approve.code, 0, approve.stderr);
  await daemon.waitForUnit('manual', 'InSync', { revision: rev });
});

test('SIGTERM lets a running apply finish, then exits 0', async () => {
  const repo = new TestRepo();
  cleanups.push(() => repo.dispose());
  const rev = repo.commit(slowStack(4, 'graceful'));
  const daemon = await TestDaemon.start({ sourceUrl: repo.url });
  cleanups.push(() => daemon.dispose());
  await daemon.waitForUnit('slow', 'Applying', { revision: rev });
  await waitFor(async () => (await daemon.plans('slow')).find((p) => p.status === 'Applying'), { what: 'the apply to start' });
  assert.equal(await daemon.stop(), 0);
  const unit = daemon.storedUnit('slow')!;
  assert.equal(unit.phase, 'InSync', 'the apply finished before the daemon exited');
  const state = JSON.parse(readFileSync(join(daemon.stateDir, 'units', 'slow', 'terraform.tfstate'), 'utf8'));
  assert.equal(state.resources[0].instances[0].attributes.input.value, 'graceful');
});

test('Ctrl-C (SIGINT to the whole process group) does not interrupt a running apply', async () => {
  const repo = new TestRepo();
  cleanups.push(() => repo.dispose());
  const rev = repo.commit(slowStack(4, 'ctrl-c'));
  const daemon = await TestDaemon.start({ sourceUrl: repo.url, ownProcessGroup: true });
  cleanups.push(() => daemon.dispose());
  await waitFor(async () => (await daemon.plans('slow')).find((p) => p.status === 'Applying' && p.revision === rev), { what: 'the apply to start' });
  // terraform itself holds the state lock: it runs, in its own process group by
  // now (a signal sent while it is being forked could still reach it).
  await waitFor(() => existsSync(join(daemon.stateDir, 'units', 'slow', '.terraform.tfstate.lock.info')), { what: 'terraform to lock the state' });
  assert.equal(await daemon.interruptGroup(), 0);
  const state = JSON.parse(readFileSync(join(daemon.stateDir, 'units', 'slow', 'terraform.tfstate'), 'utf8'));
  assert.equal(state.resources[0].instances[0].attributes.input.value, 'ctrl-c', 'terraform finished the apply');
  const unit = daemon.storedUnit('slow')!;
  assert.equal(unit.phase, 'InSync');
});

test('a crash during an apply marks it Interrupted and the unit is planned again, never applied blindly', async () => {
  const repo = new TestRepo();
  cleanups.push(() => repo.dispose());
  const rev = repo.commit(slowStack(3, 'crash'));
  let daemon = await TestDaemon.start({ sourceUrl: repo.url });
  cleanups.push(() => daemon.dispose());
  const applying = await waitFor(async () => (await daemon.plans('slow')).find((p) => p.status === 'Applying'), { what: 'the apply to start' });
  await daemon.kill();

  daemon = await TestDaemon.start({ sourceUrl: repo.url, stateDir: daemon.stateDir });
  cleanups.push(() => daemon.dispose());
  const interrupted = await waitFor(async () => (await daemon.plans('slow')).find((p) => p.id === applying.id && p.status === 'Interrupted'), {
    what: 'the cut-off plan to be Interrupted',
  });
  assert.equal(interrupted.revision, rev);
  // The history event is written just after the plan record: wait for it rather than race it.
  await waitFor(async () => (await daemon.history('slow')).some((e) => e.type === 'interrupted' && e.planId === applying.id), {
    what: 'the interrupted event in the history',
  });
  // A new plan is made; the old plan file is never applied.
  const unit = await daemon.waitForUnit('slow', 'InSync', { revision: rev, timeoutMs: 120_000 });
  assert.notEqual(unit.planId, null);
  const plans = await daemon.plans('slow');
  assert.ok(plans.length >= 2, 'planned again after the crash');
  assert.ok(plans.every((p) => p.id === applying.id ? p.status === 'Interrupted' : true));
});

test('a history rewrite stalls the source until sync --allow-rewrite', async () => {
  const repo = new TestRepo();
  cleanups.push(() => repo.dispose());
  repo.commit(helloStack({ name: 'rw', value: 'one' }));
  const second = repo.commit(helloStack({ name: 'rw', value: 'two' }));
  const daemon = await TestDaemon.start({ sourceUrl: repo.url });
  cleanups.push(() => daemon.dispose());
  await daemon.waitForUnit('rw', 'InSync', { revision: second });

  const rewritten = repo.rewriteLast(helloStack({ name: 'rw', value: 'three' }));
  const answer = await daemon.sync();
  assert.deepEqual(answer.scheduled, []);
  const status = await daemon.api<{ source: { phase: string; reason: string; message: string } }>('/api/v1/status');
  assert.equal(status.body.source.phase, 'Stalled');
  assert.equal(status.body.source.reason, 'HistoryRewritten');
  assert.match(status.body.source.message, /--allow-rewrite/);
  assert.equal((await daemon.unit('rw'))!.lastAppliedRevision, second, 'nothing applied from rewritten history');

  const cli = daemon.cli(['sync', '--allow-rewrite']);
  assert.equal(cli.code, 0, cli.stderr);
  const unit = await daemon.waitForUnit('rw', 'InSync', { revision: rewritten });
  assert.equal(unit.lastAppliedRevision, rewritten);
});
