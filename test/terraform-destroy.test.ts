import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { UnitDefinition } from '../engine/definitions/types.ts';
import type { PlanRequest, ProviderContext } from '../engine/provider.ts';
import { createCdktfProvider } from '../providers/cdktf/index.ts';
import { createTerraformProvider } from '../providers/terraform/index.ts';
import { writeTree } from '../testkit/files.ts';
import { createWorkspace, providerContext, silentLogger, testConfig, testUnit } from '../testkit/providers.ts';
import { writeTerraformRc } from '../testkit/terraform.ts';

/**
 * Destroy plans (what a pruned unit gets) and the resources a unit manages,
 * against the real terraform: a repository with a network stack, an app
 * stack that reads the network's state and calls a shared module, and a
 * CDKTF app. Each run gets its workspace the way the engine makes it.
 */

const REPO: Record<string, string> = {
  'modules/app/variables.tf': 'variable "cidr" {\n  type = string\n}\n\nvariable "instances" {\n  type    = number\n  default = 2\n}\n',
  'modules/app/main.tf': 'resource "terraform_data" "instance" {\n  count = var.instances\n  input = cidrsubnet(var.cidr, 8, count.index)\n}\n',
  'modules/app/outputs.tf': 'output "subnets" {\n  value = terraform_data.instance[*].output\n}\n',
  'stacks/network/stack.yaml': 'kind: terraform\napproval: auto\n',
  'stacks/network/main.tf': 'resource "terraform_data" "vpc" {\n  input = "10.20.0.0/16"\n}\n\noutput "cidr" {\n  value = terraform_data.vpc.output\n}\n',
  'stacks/shop/stack.yaml': 'kind: terraform\napproval: auto\n',
  'stacks/shop/variables.tf': 'variable "network_state" {\n  type        = string\n  description = "Where the network stack keeps its state."\n}\n',
  'stacks/shop/main.tf': [
    // Read only once the reference exists: the read is planned, not done at plan time.
    'resource "terraform_data" "network_ref" {',
    '  input = var.network_state',
    '}',
    '',
    'data "terraform_remote_state" "network" {',
    '  backend = "local"',
    '  config  = { path = terraform_data.network_ref.output }',
    '}',
    '',
    'module "app" {',
    '  source = "../../modules/app"',
    '  cidr   = data.terraform_remote_state.network.outputs.cidr',
    '}',
    '',
    'output "subnets" {',
    '  value = module.app.subnets',
    '}',
    '',
  ].join('\n'),
};

let root: string;
let repoDir: string;
let context: ProviderContext;
let runs = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'plumbline-tf-destroy-'));
  repoDir = writeTree(join(root, 'repo'), REPO);
  context = providerContext(
    testConfig({
      source: { url: repoDir },
      stateDir: join(root, 'state'),
      terraform: { cliConfigFile: writeTerraformRc(root) },
      // shop reads network's state through terraform_remote_state: under the sandbox
      // another unit's state is out of sight unless the operator grants it.
      sandbox: { grants: [{ units: ['shop'], readable: [join(root, 'state', 'units', 'network')] }] },
    }),
  );
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

function stack(name: string, kind: 'terraform' | 'cdktf' = 'terraform'): UnitDefinition {
  const path = `stacks/${name}`;
  return testUnit({ name, type: 'stack', kind, path, spec: kind === 'cdktf' ? { entry: `${path}/main.ts`, stackName: null } : {} });
}

async function run(unit: UnitDefinition, vars: Record<string, unknown>, destroy = false): Promise<PlanRequest> {
  const runDir = join(root, 'runs', String(++runs));
  const workdir = await createWorkspace({ snapshotDir: repoDir, unitPath: unit.path, treeDir: join(runDir, 'tree') });
  return {
    unit,
    revision: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    workdir,
    repoDir,
    artifactsDir: join(runDir, 'artifacts'),
    unitStateDir: join(root, 'state', 'units', unit.name),
    vars,
    sensitiveVars: [],
    resolvedSpec: unit.spec,
    signal: AbortSignal.timeout(300_000),
    log: silentLogger,
    ...(destroy ? { destroy: true } : {}),
  };
}

async function stateResources(unit: UnitDefinition): Promise<string[]> {
  const state = JSON.parse(await readFile(join(root, 'state', 'units', unit.name, 'terraform.tfstate'), 'utf8')) as {
    resources: Array<{ mode: string; type: string; name: string; module?: string }>;
  };
  return state.resources.map((r) => `${r.module ? `${r.module}.` : ''}${r.mode === 'data' ? 'data.' : ''}${r.type}.${r.name}`);
}

describe('destroy plans and managed resources', { timeout: 600_000 }, () => {
  it('a Terraform stack: lists what it manages, then plans and applies its destruction', async () => {
    const terraform = createTerraformProvider(context);
    assert.equal(terraform.canDestroy, true);
    const network = stack('network');
    const networkRun = await run(network, {});
    assert.deepEqual((await terraform.plan(networkRun)).managed, ['terraform_data.vpc']);
    await terraform.apply(networkRun);

    const shop = stack('shop');
    const vars = { network_state: join(root, 'state', 'units', 'network', 'terraform.tfstate') };
    const first = await run(shop, vars);
    const planned = await terraform.plan(first);
    assert.deepEqual(planned.summary, { add: 3, change: 0, destroy: 0, replace: 0 });
    // The data source is read, not managed.
    assert.deepEqual([...planned.managed!].sort(), ['module.app.terraform_data.instance[0]', 'module.app.terraform_data.instance[1]', 'terraform_data.network_ref']);
    const applied = await terraform.apply(first);
    assert.deepEqual(applied.outputs.subnets, { value: ['10.20.0.0/24', '10.20.1.0/24'], sensitive: false });
    assert.deepEqual((await stateResources(shop)).sort(), ['data.terraform_remote_state.network', 'module.app.terraform_data.instance', 'terraform_data.network_ref']);

    // Its folder is gone from the repository: its last applied code plans its destruction.
    const destroy = await run(shop, vars, true);
    const doomed = await terraform.plan(destroy);
    assert.deepEqual(doomed.summary, { add: 0, change: 0, destroy: 3, replace: 0 });
    assert.equal(doomed.hasChanges, true);
    assert.equal(doomed.destructive, true);
    assert.deepEqual(doomed.managed, []);
    assert.match(doomed.rendered, /# module\.app\.terraform_data\.instance\[1\] will be destroyed/);
    assert.match(doomed.rendered, /# terraform_data\.network_ref will be destroyed/);

    const destroyed = await terraform.apply(destroy);
    assert.match(destroyed.message, /Apply complete! Resources: 0 added, 0 changed, 3 destroyed\./);
    assert.deepEqual(destroyed.outputs, {});
    assert.deepEqual(await stateResources(shop), []);

    // Nothing left: destroying again finds nothing to do.
    const again = await terraform.plan(await run(shop, vars, true));
    assert.equal(again.hasChanges, false);
    assert.deepEqual(again.managed, []);
  });

  it('a CDKTF app: the synthesized stack is destroyed the same way', async () => {
    const main = [
      "import { App, TerraformOutput, TerraformResource, TerraformStack, TerraformVariable } from 'cdktf';",
      '',
      "const app = new App();",
      "const stack = new TerraformStack(app, 'queue');",
      "const size = new TerraformVariable(stack, 'size', { type: 'number', default: 2 });",
      "const queue = new TerraformResource(stack, 'queue', { terraformResourceType: 'terraform_data' });",
      "queue.addOverride('input', size.numberValue);",
      "new TerraformOutput(stack, 'queue_id', { value: queue.getStringAttribute('id') });",
      'app.synth();',
      '',
    ].join('\n');
    writeTree(repoDir, { 'stacks/queue/main.ts': main, 'stacks/queue/stack.yaml': 'kind: cdktf\nentry: main.ts\n' });
    const cdktf = createCdktfProvider(context);
    assert.equal(cdktf.canDestroy, true);
    const queue = stack('queue', 'cdktf');

    const first = await run(queue, { size: 3 });
    const planned = await cdktf.plan(first);
    assert.equal(planned.managed?.length, 1);
    assert.match(planned.managed![0]!, /^terraform_data\.queue/);
    await cdktf.apply(first);
    assert.equal((await stateResources(queue)).length, 1);

    const destroy = await run(queue, { size: 3 }, true);
    const doomed = await cdktf.plan(destroy);
    assert.deepEqual(doomed.summary, { add: 0, change: 0, destroy: 1, replace: 0 });
    assert.equal(doomed.destructive, true);
    assert.deepEqual(doomed.managed, []);
    await cdktf.apply(destroy);
    assert.deepEqual(await stateResources(queue), []);
  });
});

