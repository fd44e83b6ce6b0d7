import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { repoRoot } from '../testkit/files.ts';
import { TestRepo } from '../testkit/git-repo.ts';

let repo: TestRepo;
let daemon: TestDaemon;

before(async () => {
  repo = new TestRepo();
  repo.commit({
    'stacks/network/stack.yaml': 'kind: cdktf\nentry: main.ts\napproval: manual\n',
    'stacks/network/main.ts': readFileSync(join(repoRoot, 'stacks', 'network', 'main.ts'), 'utf8'),
    'stacks/broken/stack.yaml': 'kind: cdktf\nentry: main.ts\n',
    'stacks/broken/main.ts': "import { App, TerraformStack } from 'cdktf';\nconst app = new App();\nnew TerraformStack(app, 'broken');\nthrow new Error('subnet count must be positive');\n",
  });
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

test('the CDKTF example is synthesized and planned offline, and waits for approval', async () => {
  const unit = await daemon.waitForUnit('network', 'AwaitingApproval', { timeoutMs: 180_000 });
  assert.equal(unit.kind, 'cdktf');
  const plan = (await daemon.plans('network'))[0]!;
  assert.equal(plan.summary.add, 4);
  const detail = await daemon.api<{ rendered: string }>(`/api/v1/plans/${plan.id}`);
  for (const type of ['aws_vpc', 'aws_subnet', 'aws_security_group', 'aws_instance']) assert.match(detail.body.rendered, new RegExp(type));
});

test('an exception in a CDKTF stack is that stack\'s plan error, with file and line', async () => {
  const unit = await daemon.waitForUnit('broken', 'Failed', { timeoutMs: 120_000 });
  assert.match(unit.message, /stacks\/broken\/main\.ts:4/);
  assert.match(unit.message, /subnet count must be positive/);
});
