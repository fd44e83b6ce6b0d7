import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { unitFileName } from '../engine/paths.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { waitFor } from '../testkit/wait.ts';

// A monorepo laid out the way platform teams lay theirs out: environments as
// folders of stacks, shared modules beside them, shared data in a folder of
// its own. One daemon for the file; each test builds on the previous commit.
let repo: TestRepo;
let daemon: TestDaemon;
let first: string;

const network = (environment: string) => ({
  [`stacks/${environment}/network/stack.yaml`]: `kind: terraform\napproval: auto\nvars:\n  environment: ${environment}\n`,
  [`stacks/${environment}/network/main.tf`]: [
    'variable "environment" {\n  type = string\n}\n',
    'module "net" {\n  source      = "../../../modules/net"\n  environment = var.environment\n}\n',
    'output "cidr" {\n  value = module.net.cidr\n}\n',
  ].join('\n'),
});

const netModule = (cidr: string) => ({
  'modules/net/variables.tf': 'variable "environment" {\n  type = string\n}\n',
  'modules/net/main.tf': `resource "terraform_data" "vpc" {\n  input = "\${var.environment}:${cidr}"\n}\n\noutput "cidr" {\n  value = "${cidr}"\n}\n`,
});

before(async () => {
  repo = new TestRepo();
  first = repo.commit(
    {
      ...network('prod'),
      ...network('staging'),
      ...netModule('10.0.0.0/16'),
      'stacks/prod/app/stack.yaml': 'kind: terraform\napproval: auto\nwatch: ["../../../shared/*.json"]\n',
      'stacks/prod/app/main.tf': 'resource "terraform_data" "app" {\n  input = jsondecode(file("${path.module}/../../../shared/limits.json"))\n}\n',
      'shared/limits.json': '{"replicas": 2}\n',
      'README.md': '# infrastructure\n',
    },
    'environments with a shared network module',
  );
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

async function plansOf(unit: string): Promise<number> {
  return (await daemon.plans(unit)).length;
}

test('stacks in nested folders are found, named by their path, planned and applied', async () => {
  for (const name of ['prod/network', 'staging/network', 'prod/app']) {
    const unit = await daemon.waitForUnit(name, 'InSync', { revision: first });
    assert.equal(unit.path, `stacks/${name}`);
  }
  // Each unit's state lives in a folder of its own, named without a slash.
  const state = JSON.parse(readFileSync(join(daemon.stateDir, 'units', unitFileName('prod/network'), 'terraform.tfstate'), 'utf8'));
  assert.equal(state.resources[0].module, 'module.net');
  const plan = (await daemon.plans('prod/network'))[0]!;
  assert.match(plan.id, /^prod~network-/);
  const shown = daemon.cli(['show', plan.id]);
  assert.equal(shown.code, 0, shown.stderr);
});

test('a commit that changes only a shared module plans the stacks that call it, and nothing else', async () => {
  const before = { prod: await plansOf('prod/network'), staging: await plansOf('staging/network'), app: await plansOf('prod/app') };
  const head = repo.commit(netModule('10.1.0.0/16'), 'widen the network');
  const answer = await daemon.sync();
  assert.deepEqual([...answer.scheduled].sort(), ['prod/network', 'staging/network']);
  await daemon.waitForUnit('prod/network', 'InSync', { revision: head });
  await daemon.waitForUnit('staging/network', 'InSync', { revision: head });
  assert.equal(await plansOf('prod/network'), before.prod + 1);
  assert.equal(await plansOf('staging/network'), before.staging + 1);
  assert.equal(await plansOf('prod/app'), before.app);
  const why = daemon.cli(['why', 'prod/network', '--json']);
  assert.equal(why.code, 0, why.stderr);
  const reads = JSON.parse(why.stdout) as { entries: Array<{ path: string; why: string }> };
  assert.deepEqual(reads.entries.map((e) => e.path), ['stacks/prod/network', 'modules/net']);
});

test('a watch: glob plans its unit when a matching file changes; a change nobody reads plans nothing', async () => {
  const app = await plansOf('prod/app');
  const head = repo.commit({ 'shared/limits.json': '{"replicas": 3}\n' }, 'more replicas');
  assert.deepEqual((await daemon.sync()).scheduled, ['prod/app']);
  await daemon.waitForUnit('prod/app', 'InSync', { revision: head });
  assert.equal(await plansOf('prod/app'), app + 1);

  const docs = repo.commit({ 'README.md': '# infrastructure, documented\n' }, 'docs');
  const answer = await daemon.sync();
  assert.equal(answer.revision, docs);
  assert.deepEqual(answer.scheduled, []);
  await waitFor(async () => (await daemon.status()).source.lastReconciledRevision === docs, { what: 'the docs commit reconciled' });
});
