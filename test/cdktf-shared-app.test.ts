import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { unitFileName } from '../engine/paths.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';

// One CDKTF app with a stack per environment, as cdktf projects lay it out
// (main.ts, cdktf.json and the app's own modules in one folder), split into one
// Plumbline unit per stack without moving its code: each unit's entry points at
// the shared app and names its stack.

const APP_MAIN = `import { App, TerraformOutput, TerraformResource, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { settingsFor, type Environment } from './lib/environments';

class ServiceStack extends TerraformStack {
  constructor(scope: Construct, environment: Environment) {
    super(scope, environment);
    const settings = settingsFor(environment);
    const marker = new TerraformResource(this, 'marker', { terraformResourceType: 'terraform_data' });
    marker.addOverride('input', settings);
    new TerraformOutput(this, 'settings', { value: marker.getAnyMapAttribute('output') });
  }
}

const app = new App();
for (const environment of ['prod', 'dev'] as const) new ServiceStack(app, environment);
app.synth();
`;

const APP_ENVIRONMENTS = `export type Environment = 'prod' | 'dev';

export function settingsFor(environment: Environment): Record<string, string> {
  return { environment, replicas: environment === 'prod' ? '3' : '1' };
}
`;

let repo: TestRepo;
let daemon: TestDaemon;

before(async () => {
  repo = new TestRepo();
  repo.commit({
    'app/main.ts': APP_MAIN,
    'app/lib/environments.ts': APP_ENVIRONMENTS,
    'app/cdktf.json': JSON.stringify({ language: 'typescript', app: 'npx tsx main.ts', context: {} }, null, 2),
    'stacks/app-prod/stack.yaml': 'kind: cdktf\nentry: ../../app/main.ts\nstackName: prod\n',
    'stacks/app-dev/stack.yaml': 'kind: cdktf\nentry: ../../app/main.ts\nstackName: dev\n',
    'stacks/app-qa/stack.yaml': 'kind: cdktf\nentry: ../../app/main.ts\nstackName: qa\n',
  });
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

function stateOutputs(unit: string): Record<string, { value: unknown }> {
  return JSON.parse(readFileSync(join(daemon.stateDir, 'units', unitFileName(unit), 'terraform.tfstate'), 'utf8')).outputs;
}

test('two units share one app outside their folders, each applying its own stack', async () => {
  await daemon.waitForUnit('app-prod', 'InSync', { timeoutMs: 180_000 });
  await daemon.waitForUnit('app-dev', 'InSync', { timeoutMs: 180_000 });
  assert.deepEqual(stateOutputs('app-prod').settings?.value, { environment: 'prod', replicas: '3' });
  assert.deepEqual(stateOutputs('app-dev').settings?.value, { environment: 'dev', replicas: '1' });
});

test('a unit naming a stack the shared app does not have says which stacks it has', async () => {
  const unit = await daemon.waitForUnit('app-qa', 'Failed', { timeoutMs: 120_000 });
  assert.match(unit.message, /app\/main\.ts has no stack named qa \(it synthesizes: dev, prod\)/);
});

test('a commit that changes only a file the app imports plans every unit of the app, and nothing else', async () => {
  const before = { prod: (await daemon.plans('app-prod')).length, dev: (await daemon.plans('app-dev')).length };
  const head = repo.commit({ 'app/lib/environments.ts': APP_ENVIRONMENTS.replace("'3' : '1'", "'4' : '1'") }, 'one more prod replica');
  const answer = await daemon.sync();
  // app-qa reads the app too: it is planned again (and fails again, as it should).
  assert.deepEqual([...answer.scheduled].sort(), ['app-dev', 'app-prod', 'app-qa']);
  await daemon.waitForUnit('app-prod', 'InSync', { revision: head, timeoutMs: 180_000 });
  await daemon.waitForUnit('app-dev', 'InSync', { revision: head, timeoutMs: 180_000 });
  assert.deepEqual(stateOutputs('app-prod').settings?.value, { environment: 'prod', replicas: '4' });
  assert.equal((await daemon.plans('app-prod')).length, before.prod + 1);
  assert.equal((await daemon.plans('app-dev')).length, before.dev + 1);

  const unrelated = repo.commit({ 'docs/README.md': 'how we deploy\n' }, 'docs');
  const quiet = await daemon.sync();
  assert.equal(quiet.revision, unrelated);
  assert.deepEqual(quiet.scheduled, []);
});
