import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

/**
 * Units whose folder leaves the repository, with real terraform: kept as
 * Orphaned without `prune`, destroyed after a person approves with it, and a
 * unit whose first apply failed part-way is not forgotten as never applied.
 */

let repo: TestRepo;
let daemon: TestDaemon;
let first: string;

/** Two resources; the second's provisioner fails, so the first apply leaves one made and one tainted. */
const halfApplied: Record<string, string> = {
  'stacks/half/stack.yaml': 'kind: terraform\napproval: auto\nprune: true\n',
  'stacks/half/main.tf': [
    'resource "terraform_data" "made" {\n  input = "made"\n}\n',
    'resource "terraform_data" "broken" {\n  input = "broken"\n  provisioner "local-exec" {\n    command = "exit 3"\n  }\n}\n',
  ].join('\n'),
};

/** A stack that manages nothing: its destroy finds nothing to do. */
const empty: Record<string, string> = {
  'stacks/empty/stack.yaml': 'kind: terraform\napproval: auto\nprune: true\n',
  'stacks/empty/main.tf': 'locals {\n  nothing = true\n}\n',
};

const removal = (...names: string[]) => Object.fromEntries(names.map((name) => [`stacks/${name}`, null]));
const unitFolder = (name: string) => join(daemon.stateDir, 'units', name);

function stateResources(name: string): string[] {
  const state = JSON.parse(readFileSync(join(unitFolder(name), 'terraform.tfstate'), 'utf8'));
  return (state.resources as Array<{ type: string; name: string }>).map((r) => `${r.type}.${r.name}`).sort();
}

before(async () => {
  repo = new TestRepo();
  first = repo.commit(
    {
      ...helloStack({ name: 'kept' }),
      ...helloStack({ name: 'pruned' }),
      'stacks/pruned/stack.yaml': 'kind: terraform\napproval: auto\nprune: true\nvars:\n  greeting: hello\n',
      ...helloStack({ name: 'draft', approval: 'manual' }),
      ...empty,
      ...halfApplied,
    },
    'five stacks',
  );
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
  for (const name of ['kept', 'pruned', 'empty']) await daemon.waitForUnit(name, 'InSync', { revision: first });
  await daemon.waitForUnit('half', 'Failed', { revision: first });
  await daemon.waitForUnit('draft', 'AwaitingApproval', { revision: first });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

test('without prune, a removed unit is Orphaned and its state is kept', async () => {
  const head = repo.commit(removal('kept'), 'remove kept');
  await daemon.sync();
  const unit = await daemon.waitForUnit('kept', 'Orphaned');
  assert.match(unit.message ?? '', /state is kept/);
  assert.deepEqual(stateResources('kept'), ['terraform_data.greeting']);
  assert.equal((await daemon.status()).source.lastReconciledRevision, head);
});

test('with prune, the destroy waits for a person; once applied, the unit and its folder are gone', async () => {
  repo.commit(removal('pruned'), 'remove pruned');
  await daemon.sync();
  const waiting = await daemon.waitForUnit('pruned', 'AwaitingApproval');
  assert.equal(waiting.reason, 'PruneApprovalRequired');
  assert.deepEqual(stateResources('pruned'), ['terraform_data.greeting'], 'nothing destroyed before approval');
  const approve = daemon.cli(['approve', waiting.planId!]);
  assert.equal(approve.code, 0, approve.stderr);
  await waitFor(async () => (await daemon.unit('pruned')) === undefined, { what: 'the pruned unit to be forgotten', timeoutMs: 120_000 });
  // Removed once the transaction that forgot the unit is written.
  await waitFor(() => !existsSync(unitFolder('pruned')), { what: 'its state folder to go with it' });
  const events = (await daemon.history('pruned')).map((e) => e.type);
  assert.ok(events.includes('pruned'), events.join(', '));
});

test('with prune, a unit whose destroy finds nothing is forgotten at once, its folder with it', async () => {
  assert.ok(existsSync(unitFolder('empty')), 'the stack was initialized in its folder');
  repo.commit(removal('empty'), 'remove empty');
  await daemon.sync();
  await waitFor(async () => (await daemon.unit('empty')) === undefined, { what: 'the empty unit to be forgotten', timeoutMs: 120_000 });
  await waitFor(() => !existsSync(unitFolder('empty')), { what: 'its state folder to go with it' });
});

test('a unit never applied is forgotten, its folder with it', async () => {
  assert.ok(existsSync(unitFolder('draft')), 'the stack was initialized in its folder');
  repo.commit(removal('draft'), 'remove draft');
  await daemon.sync();
  await waitFor(async () => (await daemon.unit('draft')) === undefined, { what: 'the draft unit to be forgotten' });
  await waitFor(() => !existsSync(unitFolder('draft')), { what: 'its state folder to go with it' });
  const plans = await daemon.plans('draft');
  assert.ok(plans.length > 0 && plans.every((p) => p.status === 'Superseded'), 'its plan stays, superseded');
});

test('a unit whose first apply failed part-way is destroyed like an applied one, not forgotten', async () => {
  assert.equal((await daemon.unit('half'))?.lastAppliedRevision ?? null, null, 'never applied in full');
  assert.deepEqual(stateResources('half'), ['terraform_data.broken', 'terraform_data.made'], 'the failed apply made things');
  repo.commit(removal('half'), 'remove half');
  await daemon.sync();
  const waiting = await daemon.waitForUnit('half', 'AwaitingApproval');
  assert.equal(waiting.reason, 'PruneApprovalRequired');
  const plan = (await daemon.plans('half')).find((p) => p.id === waiting.planId)!;
  assert.equal(plan.summary.destroy, 2);
  assert.equal(plan.revision, first, 'planned from the code of the failed apply');
});
