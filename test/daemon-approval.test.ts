import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PlanRecord } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

let repo: TestRepo;
let daemon: TestDaemon;

const twoResources = (second: boolean) =>
  helloStack({
    name: 'web',
    extra: second ? 'resource "terraform_data" "cache" {\n  input = "cache"\n}\n' : '',
  });

before(async () => {
  repo = new TestRepo();
  const first = repo.commit(twoResources(true), 'web with a cache');
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
  await daemon.waitForUnit('web', 'InSync', { revision: first });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

function stateResources(): string[] {
  const state = JSON.parse(readFileSync(join(daemon.stateDir, 'units', 'web', 'terraform.tfstate'), 'utf8'));
  return (state.resources as Array<{ type: string; name: string }>).map((r) => `${r.type}.${r.name}`).sort();
}

test('a destroy waits for approval under auto-unless-destroy, and approve applies exactly that plan', async () => {
  const rev = repo.commit(twoResources(false), 'drop the cache');
  await daemon.sync();
  const unit = await daemon.waitForUnit('web', 'AwaitingApproval', { revision: rev });
  assert.equal(unit.reason, 'ApprovalRequired');
  const plan = (await daemon.plans('web')).find((p) => p.id === unit.planId)!;
  assert.equal(plan.status, 'Pending');
  assert.deepEqual(plan.summary, { add: 0, change: 0, destroy: 1, replace: 0 });
  assert.ok(stateResources().includes('terraform_data.cache'), 'nothing destroyed before approval');

  const approve = daemon.cli(['approve', plan.id]);
  assert.equal(approve.code, 0, approve.stderr);
  const done = await daemon.waitForUnit('web', 'InSync', { revision: rev });
  assert.equal(done.planId, plan.id, 'the applied plan is the approved one');
  assert.equal(done.lastAppliedRevision, rev);
  const applied = (await daemon.plans('web')).find((p) => p.id === plan.id)!;
  assert.equal(applied.status, 'Applied');
  assert.equal(applied.decidedBy !== undefined, true);
  assert.deepEqual(stateResources(), ['terraform_data.greeting']);
});

test('a newer commit supersedes a pending plan, and approving the superseded plan fails clearly', async () => {
  const older = repo.commit({ 'stacks/web/stack.yaml': 'kind: terraform\napproval: manual\nvars:\n  greeting: one\n' }, 'manual, one');
  await daemon.sync();
  const waiting = await daemon.waitForUnit('web', 'AwaitingApproval', { revision: older });
  const newer = repo.commit({ 'stacks/web/stack.yaml': 'kind: terraform\napproval: manual\nvars:\n  greeting: two\n' }, 'manual, two');
  await daemon.sync();
  const next = await daemon.waitForUnit('web', 'AwaitingApproval', { revision: newer });
  assert.notEqual(next.planId, waiting.planId);
  const old = await waitFor(
    async () => (await daemon.plans('web')).find((p) => p.id === waiting.planId && p.status === 'Superseded'),
    { what: 'the older plan to be superseded' },
  );
  assert.equal(old.revision, older);

  const refused = daemon.cli(['approve', waiting.planId!]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /superseded/);
  const api = await daemon.api<{ error: { code: string } }>(`/api/v1/plans/${waiting.planId}/approve`, { method: 'POST', body: {} });
  assert.equal(api.status, 409);
  assert.equal(api.body.error.code, 'E_PLAN_NOT_PENDING');
});

test('reject stops a pending plan: nothing is applied and approving it later fails', async () => {
  const unit = (await daemon.unit('web'))!;
  const pending = unit.planId!;
  const reject = daemon.cli(['reject', pending, '--reason', 'not today']);
  assert.equal(reject.code, 0, reject.stderr);
  const stalled = await daemon.waitForUnit('web', 'Stalled');
  assert.equal(stalled.reason, 'PlanRejected');
  assert.match(stalled.message, /not today/);
  const plan = (await daemon.plans('web')).find((p: PlanRecord) => p.id === pending)!;
  assert.equal(plan.status, 'Rejected');
  const again = daemon.cli(['approve', pending]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /rejected/);
  const state = JSON.parse(readFileSync(join(daemon.stateDir, 'units', 'web', 'terraform.tfstate'), 'utf8'));
  assert.equal(state.resources[0].instances[0].attributes.input.value, 'hello', 'the rejected change was never applied');
});

test('applyAfter announces the plan, applies when the window ends, and a rejection inside the window stops it', async () => {
  const windowed = (value: string, window: string) => ({
    'stacks/windowed/stack.yaml': `kind: terraform\napproval: auto\napplyAfter: ${window}\nvars:\n  greeting: ${value}\n`,
    'stacks/windowed/main.tf': helloStack({ name: 'windowed' })['stacks/windowed/main.tf']!,
  });
  const rev = repo.commit(windowed('soon', '3s'), 'windowed stack');
  await daemon.sync();
  const announced = await daemon.waitForUnit('windowed', 'AwaitingApproval', { revision: rev });
  assert.equal(announced.reason, 'ReviewWindow');
  const plan = (await daemon.plans('windowed')).find((p) => p.id === announced.planId)!;
  assert.ok(plan.applyAt && Date.parse(plan.applyAt) > Date.parse(plan.createdAt));
  const applied = await daemon.waitForUnit('windowed', 'InSync', { revision: rev, timeoutMs: 30_000 });
  assert.equal(applied.planId, plan.id);
  const decided = (await daemon.plans('windowed')).find((p) => p.id === plan.id)!;
  assert.equal(decided.decidedBy, 'policy:applyAfter');
  assert.ok(Date.parse(decided.updatedAt) >= Date.parse(plan.applyAt!), 'not applied before the window ended');

  // A window long enough that the rejection surely lands inside it, however loaded the machine.
  const rev2 = repo.commit(windowed('never', '8s'), 'windowed change to reject');
  await daemon.sync();
  const second = await daemon.waitForUnit('windowed', 'AwaitingApproval', { revision: rev2 });
  const rejectedNow = await daemon.api<{ status: string }>(`/api/v1/plans/${second.planId}/reject`, { method: 'POST', body: { reason: 'not this one' } });
  assert.equal(rejectedNow.status, 200, rejectedNow.text);
  const rejected = await daemon.waitForUnit('windowed', 'Stalled', { revision: rev2 });
  assert.equal(rejected.reason, 'PlanRejected');
  // Past the window the rejected plan is still not applied.
  await waitFor(async () => Date.now() > Date.parse((await daemon.plans('windowed')).find((p) => p.id === second.planId)!.createdAt) + 10_000, {
    what: 'the review window to pass',
    timeoutMs: 20_000,
  });
  assert.equal((await daemon.plans('windowed')).find((p) => p.id === second.planId)!.status, 'Rejected');
  assert.equal((await daemon.unit('windowed'))!.lastAppliedRevision, rev);
});
