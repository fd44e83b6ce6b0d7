import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PlanRequest, type Provider, ToolError, type UnitDefinition } from '../../engine/provider-kit.ts';
import { createWorkspace, providerContext, silentLogger, testConfig, testUnit } from '../../testkit/providers.ts';
import { BACKEND_OVERRIDE_FILE } from './backend.ts';
import type { DiagnosticView } from './diagnostics.ts';
import { createTerraformProvider, type NormalizedPlan } from './index.ts';

/** Drives the real terraform binary through the provider, on a temp folder. */

const SECRET = 'Integration-Secret-5c1d9e';

const STACK = `
variable "name" {
  type = string
}

variable "password" {
  type      = string
  sensitive = true
}

resource "terraform_data" "greeting" {
  input = "hello \${var.name}"
}

resource "terraform_data" "credentials" {
  input = { user = "app", password = var.password }
}

output "greeting" {
  value = terraform_data.greeting.output
}

output "password" {
  value     = var.password
  sensitive = true
}
`;

let root: string;
let provider: Provider;
let revision = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'plumbline-terraform-'));
  const cliConfigFile = join(root, 'terraformrc');
  await writeFile(cliConfigFile, 'provider_installation {\n  filesystem_mirror {\n    path = "/opt/tf-plugins"\n  }\n}\n');
  const config = testConfig({
    source: { url: join(root, 'repo') },
    stateDir: join(root, 'state'),
    concurrency: 2,
    terraform: { binary: process.env.PLUMBLINE_TERRAFORM ?? 'terraform', cliConfigFile, timeout: '2m' },
    defaults: { approval: 'auto' },
  });
  provider = createTerraformProvider(providerContext(config));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

const unit = testUnit({ name: 'demo', type: 'stack', kind: 'terraform', path: 'stacks/demo', spec: {} });

/** A fresh workdir and artifacts folder per run, as the engine makes them; state persists per unit. */
async function request(source: string, vars: Record<string, unknown>): Promise<PlanRequest> {
  revision++;
  const workdir = join(root, 'runs', String(revision), 'work');
  const artifactsDir = join(root, 'runs', String(revision), 'artifacts');
  await mkdir(workdir, { recursive: true });
  await writeFile(join(workdir, 'main.tf'), source);
  return {
    unit,
    revision: `rev${revision}`,
    workdir,
    repoDir: workdir,
    artifactsDir,
    unitStateDir: join(root, 'state', 'units', unit.name),
    vars,
    sensitiveVars: ['password'],
    resolvedSpec: unit.spec,
    signal: AbortSignal.timeout(300_000),
    log: silentLogger,
  };
}

describe('terraform provider against the real terraform', { timeout: 600_000 }, () => {
  it('plans, applies, reads outputs, then finds nothing to do', async () => {
    const first = await request(STACK, { name: 'world', password: SECRET });
    const plan = await provider.plan(first);
    assert.equal(plan.hasChanges, true);
    assert.equal(plan.destructive, false);
    assert.deepEqual(plan.summary, { add: 2, change: 0, destroy: 0, replace: 0 });
    assert.match(plan.fingerprint, /^[0-9a-f]{64}$/);
    assert.match(plan.rendered, /# terraform_data\.greeting will be created/);
    assert.match(plan.rendered, /\+ input += "hello world"/);
    assert.match(plan.rendered, /\+ input\.password += \(sensitive value\)/);

    const artifacts = (await readdir(first.artifactsDir)).sort();
    assert.deepEqual(artifacts, ['plan.json', 'plan.txt', 'tfplan'], 'the var file is gone once the plan is saved');
    assert.equal((await stat(join(first.artifactsDir, 'tfplan'))).mode & 0o777, 0o600);
    const planJson = await readFile(join(first.artifactsDir, 'plan.json'), 'utf8');
    const planText = await readFile(join(first.artifactsDir, 'plan.txt'), 'utf8');
    assert.equal(planText, plan.rendered);
    for (const [what, text] of [
      ['plan.json', planJson],
      ['plan.txt', planText],
      ['document', JSON.stringify(plan.document)],
      ['rendered', plan.rendered],
    ] as const) {
      assert.ok(!text.includes(SECRET), `the secret leaked into ${what}`);
    }
    assert.equal((JSON.parse(planJson) as { format_version: string }).format_version.split('.')[0], '1');

    const applied = await provider.apply(first);
    assert.match(applied.message, /Apply complete! Resources: 2 added, 0 changed, 0 destroyed\./);
    assert.deepEqual(applied.outputs.greeting, { value: 'hello world', sensitive: false });
    assert.deepEqual(applied.outputs.password, { value: SECRET, sensitive: true });

    // State went to the unit's folder, not into the throw-away workdir.
    await stat(join(first.unitStateDir, 'terraform.tfstate'));
    await stat(join(first.workdir, BACKEND_OVERRIDE_FILE));
    await assert.rejects(stat(join(first.workdir, 'terraform.tfstate')));

    const again = await provider.plan(await request(STACK, { name: 'world', password: SECRET }));
    assert.equal(again.hasChanges, false);
    assert.deepEqual(again.summary, { add: 0, change: 0, destroy: 0, replace: 0 });
    assert.deepEqual((again.document as NormalizedPlan).resources, []);
    assert.match(again.rendered, /No changes\./);
  });

  it('refuses a stale plan with E_PLAN_STALE', async () => {
    const older = await request(STACK, { name: 'mars', password: SECRET });
    await provider.plan(older);
    const newer = await request(STACK, { name: 'mars', password: SECRET });
    const plan = await provider.plan(newer);
    assert.deepEqual(plan.summary, { add: 0, change: 1, destroy: 0, replace: 0 });
    await provider.apply(newer);
    await assert.rejects(provider.apply(older), (error: unknown) => {
      assert.ok(error instanceof ToolError);
      assert.equal(error.code, 'E_PLAN_STALE');
      assert.equal(error.retry, 'waiting');
      assert.match(error.message, /Saved plan is stale/);
      return true;
    });
  });

  it('reports broken HCL with terraform\'s own message', async () => {
    const broken = await request('resource "terraform_data" "x" {\n  input = "a"\n', {});
    await assert.rejects(provider.plan(broken), (error: unknown) => {
      assert.ok(error instanceof ToolError);
      // init reports it when it runs; with the unit's data dir kept from the tests before, init is skipped and plan does.
      assert.match(error.code, /^E_TERRAFORM_(INIT|PLAN)$/);
      assert.equal(error.retry, 'stalled');
      assert.match(error.message, /Unclosed configuration block/);
      assert.match(error.message, /main\.tf line 1/);
      assert.ok(error.hint);
      return true;
    });
  });

  it('validates that the unit folder holds Terraform files', async () => {
    const empty = join(root, 'empty-unit');
    await mkdir(empty, { recursive: true });
    const problems = await provider.validate!(unit, empty);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /no Terraform files/);
    const good = await request(STACK, {});
    assert.deepEqual(await provider.validate!(unit, good.workdir), []);
  });

  it('reports an invalid reference at plan time', async () => {
    const invalid = await request('output "x" {\n  value = var.missing\n}\n', {});
    await assert.rejects(provider.plan(invalid), (error: unknown) => {
      assert.ok(error instanceof ToolError);
      assert.equal(error.code, 'E_TERRAFORM_PLAN');
      assert.match(error.message, /Reference to undeclared input variable/);
      return true;
    });
  });

  it('redirects the relative local backend of a CDKTF-style JSON stack', async () => {
    const json = {
      terraform: { backend: { local: { path: 'terraform.demo.tfstate' } } },
      resource: { terraform_data: { x: { input: 'from-json' } } },
    };
    const req = await request('', {});
    await rm(join(req.workdir, 'main.tf'));
    await writeFile(join(req.workdir, 'cdk.tf.json'), JSON.stringify(json));
    const plan = await provider.plan({ ...req, unitStateDir: join(root, 'state', 'units', 'cdk') });
    assert.deepEqual(plan.summary, { add: 1, change: 0, destroy: 0, replace: 0 });
    await provider.apply({ ...req, unitStateDir: join(root, 'state', 'units', 'cdk') });
    await stat(join(root, 'state', 'units', 'cdk', 'terraform.tfstate'));
    await assert.rejects(stat(join(req.workdir, 'terraform.demo.tfstate')));
  });
});

/**
 * A repository laid out as public Terraform projects are: a shared module in
 * modules/ (variables, main, outputs in their own files) called by a stack in
 * stacks/. Runs get their workspace the way the engine makes it, so terraform
 * sees `../../modules/batch-job` exactly as in the repository.
 */
const MODULE_MAIN = `resource "terraform_data" "step" {
  count = length(var.commands)
  input = var.commands[count.index]

  provisioner "local-exec" {
    command = self.input
  }
}
`;

const JOBS_REPO: Record<string, string> = {
  'modules/batch-job/variables.tf': 'variable "commands" {\n  type        = list(string)\n  description = "One step per command, run on the control host."\n}\n',
  'modules/batch-job/main.tf': MODULE_MAIN,
  'modules/batch-job/outputs.tf': 'output "steps" {\n  value = terraform_data.step[*].id\n}\n',
  'stacks/nightly/stack.yaml': 'kind: terraform\nvars:\n  region: eu-west-1\n',
  'stacks/nightly/main.tf': 'module "jobs" {\n  source   = "../../modules/batch-job"\n  commands = ["true", "exit 3"]\n}\n',
};

const nightly: UnitDefinition = { ...unit, name: 'nightly', path: 'stacks/nightly', file: 'stacks/nightly/stack.yaml' };

async function writeRepo(files: Record<string, string>): Promise<string> {
  const repoDir = join(root, 'repos', String(++revision));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(repoDir, path)), { recursive: true });
    await writeFile(join(repoDir, path), text);
  }
  return repoDir;
}

async function runIn(repoDir: string, target: UnitDefinition, vars: Record<string, unknown>): Promise<PlanRequest> {
  const runDir = join(root, 'runs', `repo-${++revision}`);
  const workdir = await createWorkspace({ snapshotDir: repoDir, unitPath: target.path, treeDir: join(runDir, 'tree') });
  return {
    unit: target,
    revision: `rev${revision}`,
    workdir,
    repoDir,
    artifactsDir: join(runDir, 'artifacts'),
    unitStateDir: join(root, 'state', 'units', target.name),
    vars,
    sensitiveVars: [],
    resolvedSpec: target.spec,
    signal: AbortSignal.timeout(300_000),
    log: silentLogger,
  };
}

describe('terraform provider on a repository with shared modules', { timeout: 600_000 }, () => {
  it('names the address and the repository file of an error inside a module', async () => {
    const repoDir = await writeRepo(JOBS_REPO);
    const run = await runIn(repoDir, nightly, {});
    const plan = await provider.plan(run);
    assert.deepEqual(plan.summary, { add: 2, change: 0, destroy: 0, replace: 0 });
    assert.deepEqual(plan.changes, ['module.jobs.terraform_data.step[0] (create)', 'module.jobs.terraform_data.step[1] (create)']);

    const line = MODULE_MAIN.split('\n').findIndex((l) => l.includes('provisioner "local-exec"')) + 1;
    await assert.rejects(provider.apply(run), (error: unknown) => {
      assert.ok(error instanceof ToolError);
      assert.equal(error.code, 'E_TERRAFORM_APPLY');
      assert.match(error.message, new RegExp(`^local-exec provisioner error \\(with module\\.jobs\\.terraform_data\\.step\\[1\\], on modules/batch-job/main\\.tf line ${line}, column \\d+\\): Error running command 'exit 3'`));
      assert.match(error.hint ?? '', new RegExp(`at modules/batch-job/main\\.tf line ${line} \\(module\\.jobs\\.terraform_data\\.step\\[1\\]\\)`));
      for (const text of [error.message, error.hint ?? '', JSON.stringify(error.details)]) {
        assert.ok(!text.includes(root), `no run folder in ${text}`);
        assert.ok(!text.includes('../'), `no path relative to the run in ${text}`);
      }
      const [diagnostic] = error.details?.diagnostics as DiagnosticView[];
      assert.equal(diagnostic!.address, 'module.jobs.terraform_data.step[1]');
      assert.deepEqual(diagnostic!.range, { filename: 'modules/batch-job/main.tf', start: { line, column: diagnostic!.range!.start.column } });
      return true;
    });
  });

  it('keeps terraform\'s warnings in the plan, at their repository file and line', async () => {
    const main = [
      'variable "max_steps" {',
      '  type = number',
      '}',
      '',
      JOBS_REPO['stacks/nightly/main.tf']!.replace('"exit 3"', '"echo done"'),
      'check "batch_size" {',
      '  assert {',
      '    condition     = length(module.jobs.steps) <= var.max_steps',
      '    error_message = "more steps than max_steps"',
      '  }',
      '}',
      '',
    ].join('\n');
    const repoDir = await writeRepo({ ...JOBS_REPO, 'stacks/nightly/main.tf': main });
    const target = { ...nightly, name: 'nightly-warnings' };
    const plan = await provider.plan(await runIn(repoDir, target, { max_steps: 1 }));
    assert.equal(plan.warnings?.length, 1);
    const line = main.split('\n').findIndex((l) => l.includes('condition')) + 1;
    assert.match(plan.warnings![0]!, new RegExp(`^Check block assertion failed \\(on stacks/nightly/main\\.tf line ${line}, column \\d+\\): more steps than max_steps$`));
    assert.deepEqual((plan.document as NormalizedPlan).warnings, plan.warnings);
    assert.match(plan.rendered, /\nWarnings:\n {2}- Check block assertion failed /);
    assert.ok(!plan.rendered.includes(root));

    // The same plan without the warning has the same fingerprint: warnings say how, not what.
    const quiet = await provider.plan(await runIn(repoDir, target, { max_steps: 5 }));
    assert.deepEqual(quiet.warnings, []);
    assert.equal(quiet.fingerprint, plan.fingerprint);
  });

  it('names the stack manifest for a value terraform refuses', async () => {
    const repoDir = await writeRepo({ ...JOBS_REPO, 'stacks/nightly/main.tf': 'variable "max_steps" {\n  type = number\n}\n' });
    await assert.rejects(provider.plan(await runIn(repoDir, { ...nightly, name: 'nightly-value' }, { max_steps: 'many' })), (error: unknown) => {
      assert.ok(error instanceof ToolError);
      assert.equal(error.code, 'E_TERRAFORM_PLAN');
      assert.match(error.message, /^Invalid value for input variable \(on stacks\/nightly\/stack\.yaml line \d+, column \d+\): .*a number is required/);
      assert.ok(!error.message.includes(root));
      return true;
    });
  });

  it('reads the modules a stack calls', async () => {
    const repoDir = await writeRepo(JOBS_REPO);
    const reads = await provider.reads!({ unit: nightly, repoDir, log: silentLogger });
    assert.deepEqual(reads, { entries: [{ path: 'modules/batch-job', why: 'module "jobs" in stacks/nightly/main.tf:1' }] });
  });
});
