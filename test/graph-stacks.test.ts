import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../engine/log.ts';
import type { HistoryEvent } from '../engine/model.ts';
import { openStore } from '../engine/store/open.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { waitFor } from '../testkit/wait.ts';

// A chain of three stacks, each fed by the outputs of the one before:
// net -> app -> web, and an unrelated stack beside them.
const net = (cidr: string, broken = false) => ({
  'stacks/net/stack.yaml': `kind: terraform\napproval: auto\nvars:\n  cidr: "${cidr}"\n`,
  'stacks/net/main.tf': broken
    ? 'variable "cidr" {\n  type = string\n}\nresource "terraform_data" "vpc" {\n  input = var.nope\n}\n'
    : 'variable "cidr" {\n  type = string\n}\nresource "terraform_data" "vpc" {\n  input = var.cidr\n}\noutput "cidr" {\n  value = terraform_data.vpc.output\n}\noutput "zones" {\n  value = ["a", "b"]\n}\n',
});
const app = (extra = '') => ({
  'stacks/app/stack.yaml': `kind: terraform\napproval: auto\ndependsOn: [net]\nvars:\n  network: {fromOutput: net.cidr}\n  zone: {fromOutput: "net.zones[1]"}\n${extra}`,
  'stacks/app/main.tf':
    'variable "network" {\n  type = string\n}\nvariable "zone" {\n  type = string\n}\nresource "terraform_data" "app" {\n  input = "${var.network}/${var.zone}"\n}\noutput "endpoint" {\n  value = "app in ${terraform_data.app.output}"\n}\n',
});
const web = {
  'stacks/web/stack.yaml': 'kind: terraform\napproval: auto\ndependsOn: [app]\nvars:\n  endpoint: {fromOutput: app.endpoint}\n',
  'stacks/web/main.tf': 'variable "endpoint" {\n  type = string\n}\nresource "terraform_data" "web" {\n  input = var.endpoint\n}\n',
};
const solo = (value: string) => ({
  'stacks/solo/stack.yaml': `kind: terraform\napproval: auto\nvars:\n  v: "${value}"\n`,
  'stacks/solo/main.tf': 'variable "v" {\n  type = string\n}\nresource "terraform_data" "solo" {\n  input = var.v\n}\n',
});

let repo: TestRepo;
let daemon: TestDaemon;

before(async () => {
  repo = new TestRepo();
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
});
after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

function stateInput(stack: string): unknown {
  const state = JSON.parse(readFileSync(join(daemon.stateDir, 'units', stack, 'terraform.tfstate'), 'utf8'));
  return state.resources[0].instances[0].attributes.input.value;
}

function at(events: HistoryEvent[], type: string, unit: string, revision: string): HistoryEvent {
  const event = events.find((e) => e.type === type && e.unit === unit && e.revision === revision);
  assert.ok(event, `${type} of ${unit} at ${revision.slice(0, 8)}`);
  return event;
}

test('the chain converges in dependency order from an empty state dir, outputs flowing into vars', async () => {
  const rev = repo.commit({ ...net('10.0.0.0/16'), ...app(), ...web, ...solo('one') });
  await daemon.sync();
  for (const unit of ['net', 'app', 'web', 'solo']) await daemon.waitForUnit(unit, 'InSync', { revision: rev });
  assert.equal(stateInput('app'), '10.0.0.0/16/b');
  assert.equal(stateInput('web'), 'app in 10.0.0.0/16/b');

  const events = await daemon.history();
  // Each dependant was planned only after its upstream had applied at this commit.
  assert.ok(Date.parse(at(events, 'planned', 'app', rev).startedAt!) >= Date.parse(at(events, 'applied', 'net', rev).finishedAt!));
  assert.ok(Date.parse(at(events, 'planned', 'web', rev).startedAt!) >= Date.parse(at(events, 'applied', 'app', rev).finishedAt!));
  assert.ok(events.some((e) => e.type === 'waiting' && e.unit === 'web' && /waits for app/.test(e.message)));

  // The change set shows the whole commit in dependency order.
  const show = daemon.cli(['show', `cs-${rev.slice(0, 12)}`]);
  assert.equal(show.code, 0, show.stderr);
  const order = ['net', 'app', 'web'].map((u) => show.stdout.indexOf(`. ${u} [terraform]`));
  assert.ok(order.every((i) => i > 0) && order[0]! < order[1]! && order[1]! < order[2]!, show.stdout);
});

test('an upstream output change plans and applies the dependants again, though their folders did not change', async () => {
  const rev = repo.commit(net('10.1.0.0/16'), 'net: new range');
  const answer = await daemon.sync();
  assert.deepEqual(answer.scheduled, ['net']);
  await daemon.waitForUnit('net', 'InSync', { revision: rev });
  await waitFor(async () => stateInput('web') === 'app in 10.1.0.0/16/b', { what: 'web to receive the new endpoint' });
  const app = await daemon.waitForUnit('app', 'InSync');
  assert.equal(stateInput('app'), '10.1.0.0/16/b');
  assert.equal(app.lastAppliedRevision, rev);
  const plans = await daemon.plans('app');
  assert.equal(plans[0]!.changeSet, `cs-${rev.slice(0, 12)}`, 'the re-plan belongs to the commit that caused it');
  assert.equal((await daemon.unit('solo'))!.lastAttemptedRevision !== rev, true, 'unrelated units stay put');
});

test('a failing upstream blocks its dependants, naming the blocker, while unrelated units go on', async () => {
  const rev = repo.commit({ ...net('10.2.0.0/16', true), ...app('# touched\n'), ...solo('two') }, 'break net');
  await daemon.sync();
  await daemon.waitForUnit('net', 'Failed', { revision: rev });
  const blocked = await daemon.waitForUnit('app', 'Blocked', { revision: rev });
  assert.equal(blocked.reason, 'DependencyNotReady');
  assert.match(blocked.message, /blocked by net \(Failed/);
  await daemon.waitForUnit('solo', 'InSync', { revision: rev });
  assert.equal(stateInput('solo'), 'two');
  await waitFor(async () => (await daemon.history('app')).some((e) => e.type === 'blocked' && /net/.test(e.message)), { what: 'a blocked event naming net' });
  const status = daemon.cli(['status']);
  assert.match(status.stdout, /app\s+terraform\s+Blocked/);
  const plans = daemon.cli(['plans']);
  assert.match(plans.stdout, /^app: blocked, blocked by net \(Failed/m);

  // Fixing the upstream releases the dependant.
  const fixed = repo.commit(net('10.2.0.0/16'), 'fix net');
  await daemon.sync();
  await daemon.waitForUnit('net', 'InSync', { revision: fixed });
  await waitFor(async () => stateInput('app') === '10.2.0.0/16/b', { what: 'app to apply after net is fixed' });
});

test('approving a change set approves its pending plans and pre-approves the later non-destructive ones', async () => {
  const manual = (file: string) => file.replace('approval: auto', 'approval: manual');
  const rev = repo.commit(
    {
      'stacks/net/stack.yaml': manual(net('10.3.0.0/16')['stacks/net/stack.yaml']),
      'stacks/app/stack.yaml': manual(app()['stacks/app/stack.yaml']),
    },
    'both manual, new range',
  );
  await daemon.sync();
  await daemon.waitForUnit('net', 'AwaitingApproval', { revision: rev });
  const waitingApp = await daemon.waitForUnit('app', 'Pending', { revision: rev });
  assert.match(waitingApp.message, /waits for net \(AwaitingApproval\)/);
  const cs = `cs-${rev.slice(0, 12)}`;
  const view = daemon.cli(['show', cs]);
  assert.match(view.stdout, /app \[terraform\] Pending \(waits for net\)/);

  assert.equal(daemon.cli(['approve', cs]).code, 0);
  await daemon.waitForUnit('net', 'InSync', { revision: rev });
  const app2 = await daemon.waitForUnit('app', 'InSync', { revision: rev });
  const plan = (await daemon.plans('app')).find((p) => p.id === app2.planId)!;
  assert.equal(plan.decidedBy, `changeset:${cs} (bootstrap)`, 'the set was approved with the token of api.tokenFile');
  assert.equal(stateInput('app'), '10.3.0.0/16/b');
});

test('a unit found in sync without an apply still publishes its outputs to dependants', async () => {
  // Lose the stored outputs (as after a crash between apply and write); the next
  // plan finds nothing to change and reads them back from the state.
  // The store is SQLite: a second connection beside the running daemon's.
  const store = await openStore({ stateDir: daemon.stateDir }, silentLogger);
  try {
    assert.ok(await store.getOutputs('net'));
    await store.write((tx) => tx.deleteOutputs('net'));
    const sync = daemon.cli(['sync', '--unit', 'net']);
    assert.equal(sync.code, 0, sync.stderr);
    const outputs = await waitFor(() => store.getOutputs('net'), { what: 'net outputs to be written again' });
    assert.equal(outputs.cidr!.value, '10.3.0.0/16');
    assert.deepEqual(outputs.zones!.value, ['a', 'b']);
  } finally {
    await store.close();
  }
});
