import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

// One repository and one daemon for the whole file: each test builds on the
// previous commit, as an operator's day would.
let repo: TestRepo;
let daemon: TestDaemon;
let first: string;

before(async () => {
  repo = new TestRepo();
  first = repo.commit({ ...helloStack({ name: 'alpha' }), ...helloStack({ name: 'beta' }) }, 'two stacks');
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

test('a commit is planned and applied automatically, and the stacks are InSync', async () => {
  const alpha = await daemon.waitForUnit('alpha', 'InSync', { revision: first });
  const beta = await daemon.waitForUnit('beta', 'InSync', { revision: first });
  assert.equal(alpha.lastAppliedRevision, first);
  assert.equal(beta.lastAppliedRevision, first);
  assert.equal(alpha.kind, 'terraform');
  assert.ok(alpha.planId);

  const plans = await daemon.plans('alpha');
  assert.equal(plans.length, 1);
  assert.equal(plans[0]!.status, 'Applied');
  assert.deepEqual(plans[0]!.summary, { add: 1, change: 0, destroy: 0, replace: 0 });
  assert.equal(plans[0]!.revision, first);

  // The apply really happened: the state under stateDir holds the resource.
  const state = JSON.parse(readFileSync(join(daemon.stateDir, 'units', 'alpha', 'terraform.tfstate'), 'utf8'));
  assert.equal(state.resources[0].type, 'terraform_data');
  assert.equal(state.resources[0].instances[0].attributes.input.value, 'hello');

  // status --json from the CLI serves the same record.
  const cli = daemon.cli(['status', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const parsed = JSON.parse(cli.stdout) as { units: Array<Record<string, unknown>> };
  const fromCli = parsed.units.find((u) => u.name === 'alpha')!;
  for (const key of ['name', 'kind', 'phase', 'lastAppliedRevision', 'lastAttemptedRevision', 'planId', 'message']) {
    assert.ok(key in fromCli, `status --json has ${key}`);
  }
  assert.equal(fromCli.phase, 'InSync');
});

test('reconciling the same commit again applies nothing', async () => {
  const before = await daemon.history();
  const answer = await daemon.sync();
  assert.equal(answer.revision, first);
  assert.deepEqual(answer.scheduled, []);
  const afterSync = await daemon.history();
  assert.equal(afterSync.filter((e) => e.type === 'applied').length, before.filter((e) => e.type === 'applied').length);
  assert.equal((await daemon.plans()).length, 2);
});

test('a commit that touches one stack plans only that stack', async () => {
  const plansBefore = await daemon.plans();
  const second = repo.commit(helloStack({ name: 'alpha', value: 'bonjour' }), 'alpha says bonjour');
  const answer = await daemon.sync();
  assert.equal(answer.revision, second);
  assert.deepEqual(answer.scheduled, ['alpha']);
  const alpha = await daemon.waitForUnit('alpha', 'InSync', { revision: second });
  assert.equal(alpha.lastAppliedRevision, second);
  const plansAfter = await daemon.plans();
  assert.equal(plansAfter.length, plansBefore.length + 1);
  const newPlan = plansAfter.find((p) => !plansBefore.some((b) => b.id === p.id))!;
  assert.equal(newPlan.unit, 'alpha');
  // terraform_data updates `input` in place.
  assert.deepEqual(newPlan.summary, { add: 0, change: 1, destroy: 0, replace: 0 });
  const beta = await daemon.unit('beta');
  assert.equal(beta!.lastAttemptedRevision, first, 'beta was not planned again');
});

test('broken Terraform code fails that stack with terraform\'s message while the others converge', async () => {
  const third = repo.commit(
    {
      'stacks/alpha/main.tf': 'variable "greeting" {\n  type = string\n}\n\nresource "terraform_data" "broken" {\n  input = var.does_not_exist\n}\n',
      ...helloStack({ name: 'beta', value: 'hola' }),
    },
    'break alpha, change beta',
  );
  await daemon.sync();
  const alpha = await daemon.waitForUnit('alpha', 'Failed', { revision: third });
  assert.equal(alpha.reason, 'PlanFailed');
  assert.match(alpha.message, /Reference to undeclared input variable/);
  assert.match(alpha.message, /does_not_exist/);
  const beta = await daemon.waitForUnit('beta', 'InSync', { revision: third });
  assert.equal(beta.lastAppliedRevision, third);
  const failures = (await daemon.history('alpha')).filter((e) => e.type === 'plan-failed');
  assert.equal(failures.length, 1);
});

test('plan artifacts are stored: binary plan, masked JSON, rendered text', async () => {
  const [plan] = await daemon.plans('beta');
  const detail = await daemon.api<{ rendered: string; document: unknown; plan: { id: string } }>(`/api/v1/plans/${plan!.id}`);
  assert.equal(detail.status, 200);
  assert.match(detail.body.rendered, /terraform_data\.greeting/);
  assert.ok(detail.body.document);
  const show = daemon.cli(['show', plan!.id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /terraform_data\.greeting/);
  const runs = join(daemon.stateDir, 'runs');
  assert.ok(existsSync(runs));
});

test('a poll with nothing new costs one fetch and starts no other process', async () => {
  type Metrics = { processes: Record<string, number>; polls: number };
  const before = (await daemon.api<Metrics>('/api/v1/metrics')).body;
  for (let i = 0; i < 3; i += 1) assert.deepEqual((await daemon.sync()).scheduled, []);
  const afterPolls = (await daemon.api<Metrics>('/api/v1/metrics')).body;
  assert.equal(afterPolls.polls - before.polls, 3);
  assert.equal((afterPolls.processes.git ?? 0) - (before.processes.git ?? 0), 3, 'one git process per poll');
  for (const tool of Object.keys(afterPolls.processes).filter((t) => t !== 'git')) {
    assert.equal(afterPolls.processes[tool], before.processes[tool], `no ${tool} process started`);
  }
  assert.ok((before.processes.terraform ?? 0) > 0, 'terraform did run earlier, so the counter works');
});

test('sync --unit plans one unit again at the current commit', async () => {
  const failuresBefore = (await daemon.history('alpha')).filter((e) => e.type === 'plan-failed').length;
  const cli = daemon.cli(['sync', '--unit', 'alpha']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /alpha/);
  await waitFor(async () => (await daemon.history('alpha')).filter((e) => e.type === 'plan-failed').length === failuresBefore + 1, {
    what: 'alpha to be planned again',
  });
  const missing = daemon.cli(['sync', '--unit', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no unit nope/);
});
