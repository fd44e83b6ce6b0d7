import assert from 'node:assert/strict';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isPlumblineError, type ProviderContext, type RunRequest, secrets } from '../../engine/provider-kit.ts';
import { providerContext, silentLogger, testConfig } from '../../testkit/providers.ts';
import { createCdktfProvider } from './index.ts';
import { cdktfProvider } from './module.ts';
import { cdktfUnit, installRoot, removeDir, tempDir, workspace } from '../../testkit/cdktf-units.ts';

/** Providers come only from this local mirror: no test ever downloads one. */
const PLUGIN_MIRROR = '/opt/tf-plugins';

let root: string;
let context: ProviderContext;
let counter = 0;

before(async () => {
  root = await tempDir('provider');
  const cliConfigFile = join(root, 'terraform.rc');
  await writeFile(cliConfigFile, `provider_installation {\n  filesystem_mirror {\n    path = "${PLUGIN_MIRROR}"\n  }\n}\n`);
  const config = testConfig({
    source: { url: join(root, 'repo') },
    stateDir: join(root, 'state'),
    concurrency: 2,
    terraform: { cliConfigFile, timeout: '5m' },
    defaults: { approval: 'manual' },
  });
  await mkdir(config.stateDir, { recursive: true });
  context = providerContext(config);
});
after(async () => {
  await removeDir(root);
});

async function request(
  name: string,
  options: { copyFrom?: string; files?: Record<string, string>; vars?: Record<string, unknown>; sensitiveVars?: string[] },
): Promise<RunRequest> {
  const run = join(root, `run-${++counter}`);
  const workdir = await workspace(run, `stacks/${name}`, options.files ?? {}, options.copyFrom);
  const artifactsDir = join(run, 'artifacts');
  await mkdir(artifactsDir, { recursive: true });
  return {
    unit: cdktfUnit(name),
    revision: '0123456789abcdef0123456789abcdef01234567',
    workdir,
    repoDir: join(run, 'snapshot'),
    artifactsDir,
    unitStateDir: join(context.config.stateDir, 'units', name),
    vars: options.vars ?? {},
    sensitiveVars: options.sensitiveVars ?? [],
    resolvedSpec: cdktfUnit(name).spec,
    signal: new AbortController().signal,
    log: silentLogger,
  };
}

describe('createCdktfProvider', () => {
  test('handles the cdktf kind, written in stack.yaml', async () => {
    assert.equal(cdktfProvider.kind, 'cdktf');
    assert.equal(cdktfProvider.manifest.file.fileName, 'stack.yaml');
    assert.equal(typeof (await cdktfProvider.create(context)).plan, 'function');
  });

  test('plans the network example offline: four creates, no secrets', async () => {
    const provider = createCdktfProvider(context);
    const secret = 'network-secret-token-8c1f';
    const req = await request('network', {
      copyFrom: join(installRoot, 'stacks', 'network'),
      // A secret passed to a variable the app does not mark sensitive: it ends up in names and tags.
      vars: { region: 'eu-central-1', environment: secret },
      sensitiveVars: ['environment'],
    });
    const outcome = await provider.plan(req);

    assert.deepEqual(outcome.summary, { add: 4, change: 0, destroy: 0, replace: 0 });
    assert.equal(outcome.hasChanges, true);
    assert.equal(outcome.destructive, false);
    assert.match(outcome.rendered, /aws_vpc\.vpc/);
    assert.match(outcome.rendered, /aws_instance\.server/);
    assert.ok(outcome.fingerprint.length > 0);

    const everything = `${JSON.stringify(outcome.document)}\n${outcome.rendered}`;
    assert.ok(!everything.includes(secret), 'the secret variable never appears in the plan');
    assert.ok(!everything.includes('plan-only-placeholder'), 'provider credentials never appear in the plan');
    assert.ok(!everything.includes(root), 'no temporary paths in the plan');
    assert.ok(secrets.maskText(secret) !== secret, 'the secret is registered for masking');
    // The state goes to the unit's own folder, not into the throw-away workdir.
    const override = JSON.parse(await readFile(join(req.workdir, 'cdktf.out', 'stacks', 'network', 'plumbline_backend_override.tf.json'), 'utf8'));
    assert.equal(override.terraform.backend.local.path, join(req.unitStateDir, 'terraform.tfstate'));
  });

  test('applies what it planned, and again after the synthesized folder is gone', async () => {
    // Only Terraform's built-in terraform_data: plans and applies with no provider at all.
    const main = `import { App, TerraformOutput, TerraformResource, TerraformStack, TerraformVariable } from 'cdktf';
const app = new App();
const stack = new TerraformStack(app, 'local');
const message = new TerraformVariable(stack, 'message', { type: 'string', default: 'hi' });
const data = new TerraformResource(stack, 'note', { terraformResourceType: 'terraform_data' });
data.addOverride('input', message.stringValue);
new TerraformOutput(stack, 'result', { value: data.getStringAttribute('output') });
app.synth();
`;
    const provider = createCdktfProvider(context);

    const first = await request('local', { files: { 'stacks/local/main.ts': main }, vars: { message: 'first' } });
    const planned = await provider.plan(first);
    assert.deepEqual(planned.summary, { add: 1, change: 0, destroy: 0, replace: 0 });
    const applied = await provider.apply(first);
    assert.deepEqual(applied.outputs.result, { value: 'first', sensitive: false });
    await access(join(first.unitStateDir, 'terraform.tfstate'));

    const second = await request('local', { files: { 'stacks/local/main.ts': main }, vars: { message: 'second' } });
    const replanned = await provider.plan(second);
    assert.deepEqual(replanned.summary, { add: 0, change: 1, destroy: 0, replace: 0 });
    // The engine rebuilt the workdir: the provider synthesizes again and applies the saved plan.
    await rm(join(second.workdir, 'cdktf.out'), { recursive: true, force: true });
    const reapplied = await provider.apply(second);
    assert.deepEqual(reapplied.outputs.result, { value: 'second', sensitive: false });
  });
});

describe('Terraform errors point at the TypeScript', () => {
  test('an invalid value in a resource names the line that created it, not cdk.tf.json', async () => {
    const main = [
      "import { App, TerraformStack } from 'cdktf';",
      "import { Construct } from 'constructs';",
      "import { AwsProvider } from '@cdktf/provider-aws/lib/provider';",
      "import { Vpc } from '@cdktf/provider-aws/lib/vpc';",
      'class Network extends Construct {',
      '  constructor(scope: Construct, id: string, cidr: string) {',
      '    super(scope, id);',
      "    new Vpc(this, 'vpc', { cidrBlock: cidr });",
      '  }',
      '}',
      'const app = new App();',
      "const stack = new TerraformStack(app, 'typo');",
      "new AwsProvider(stack, 'aws', { region: 'eu-west-1', accessKey: 'x', secretKey: 'x', skipCredentialsValidation: true, skipRequestingAccountId: true, skipMetadataApiCheck: 'true', skipRegionValidation: true });",
      "new Network(stack, 'network', '10.0.0.0/33');",
      'app.synth();',
      '',
    ].join('\n');
    const provider = createCdktfProvider(context);
    const req = await request('typo', { files: { 'stacks/typo/main.ts': main } });
    const error = await provider.plan(req).then(
      () => assert.fail('the plan should fail'),
      (e: unknown) => e,
    );
    assert.ok(isPlumblineError(error));
    assert.equal(error.code, 'E_TERRAFORM_PLAN');
    assert.match(error.message, /invalid CIDR address: 10\.0\.0\.0\/33/);
    assert.match(error.message, /stacks\/typo\/main\.ts:8:5/);
    assert.match(error.message, /network_vpc_\w+, construct typo\/network\/vpc/);
    assert.ok(!error.message.includes('cdk.tf.json'), error.message);
    assert.match(error.hint ?? '', /^stacks\/typo\/main\.ts:8 creates aws_vpc\.network_vpc_\w+ \(construct typo\/network\/vpc\)/);
    assert.ok(!`${error.message}${error.hint}`.includes(root), 'no temporary paths');
  });
});

describe('reads', () => {
  test('the files the entry imports, and the app files, repository-relative, with why', async (t) => {
    const provider = createCdktfProvider(context);
    const started = performance.now();
    const network = await provider.reads!({ unit: cdktfUnit('network'), repoDir: installRoot, log: silentLogger });
    t.diagnostic(`reads() of the network example took ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual(network.entries[0], { path: 'stacks/network/main.ts', why: "the app's entry (entry in stacks/network/stack.yaml)" });
    assert.deepEqual(
      network.entries.map((e) => e.path),
      ['stacks/network/main.ts', 'stacks/network/package.json', 'stacks/network/package-lock.json', 'stacks/network/cdktf.json', 'stacks/network/tsconfig.json'],
    );

    const repo = join(root, 'reads-repo');
    const files: Record<string, string> = {
      'app/main.ts': "import { App } from 'cdktf';\nimport { naming } from './lib/naming';\nimport { tags } from '../shared/tags.ts';\nimport type { Settings } from './lib/types.ts';\nimport { gone } from './lib/gone';\nconst s: Settings | null = null;\nnew App();\nconsole.log(naming, tags, s, gone);\n",
      'app/lib/naming.ts': "import { tags } from '../../shared/tags.ts';\nexport const naming = tags.length;\n",
      'app/lib/types.ts': 'export interface Settings { region: string }\n',
      'app/package.json': '{}',
      'shared/tags.ts': "export const tags = ['a'];\n",
      'stacks/app-prod/stack.yaml': 'kind: cdktf\nentry: ../../app/main.ts\n',
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(repo, path, '..'), { recursive: true });
      await writeFile(join(repo, path), text);
    }
    const unit = cdktfUnit('app-prod', { entryPath: 'app/main.ts' });
    const shared = await provider.reads!({ unit, repoDir: repo, log: silentLogger });
    assert.deepEqual(shared.entries, [
      { path: 'app/main.ts', why: "the app's entry (entry in stacks/app-prod/stack.yaml)" },
      { path: 'app/lib/naming.ts', why: 'imported by app/main.ts' },
      { path: 'shared/tags.ts', why: 'imported by app/main.ts' },
      { path: 'app/package.json', why: "the app's package.json (in app)" },
      { path: 'app/package-lock.json', why: "the app's package-lock.json (in app)" },
      { path: 'app/cdktf.json', why: "the app's cdktf.json (in app)" },
    ]);
    assert.deepEqual(shared.notes, ['app/main.ts:5:22: imports ./lib/gone, which does not exist']);
  });
});
