import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { PlanRequest, Provider } from '../../engine/provider-kit.ts';
import { createLogger } from '../../engine/log.ts';
import { providerContext, testConfig, testUnit } from '../../testkit/providers.ts';
import { DATA_DIR } from './data-dir.ts';
import { createTerraformProvider } from './index.ts';

/**
 * The unit's persistent data dir, against the real terraform: a plan of an
 * unchanged stack runs no init, whatever its workspace; what init depends on
 * (a module call, the backend, a provider's version) makes it init again; a
 * data dir an init did not finish is never trusted.
 */

const unit = testUnit({ name: 'prod/app', type: 'stack', kind: 'terraform', path: 'stacks/app', spec: {} });

const MODULE = `
variable "label" {
  type = string
}

resource "terraform_data" "tag" {
  input = var.label
}
`;

function stack(options: { moduleDir?: string; terraformBlock?: string } = {}): string {
  return `
module "tags" {
  source = "../../modules/${options.moduleDir ?? 'tags'}"
  label  = "app"
}

resource "terraform_data" "one" {
  input = "one"
}
${options.terraformBlock ?? ''}
`;
}

let root: string;
let provider: Provider;
let runs = 0;
/** Each terraform subcommand the provider started, in order. */
const commands: string[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'plumbline-init-reuse-'));
  const cliConfigFile = join(root, 'terraformrc');
  await writeFile(cliConfigFile, 'provider_installation {\n  filesystem_mirror {\n    path = "/opt/tf-plugins"\n  }\n}\n');
  const config = testConfig({
    source: { url: join(root, 'repo') },
    stateDir: join(root, 'state'),
    terraform: { binary: process.env.PLUMBLINE_TERRAFORM ?? 'terraform', cliConfigFile, timeout: '3m' },
  });
  provider = createTerraformProvider(providerContext(config));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

const unitStateDir = () => join(root, 'state', 'units', 'prod%2Fapp');

/** A fresh workspace per run, laid out as the repository (stack and modules side by side), as the engine makes it. */
async function request(files: { stack: string; modules?: Record<string, string> }): Promise<PlanRequest> {
  runs++;
  const tree = join(root, 'runs', String(runs), 'tree');
  const workdir = join(tree, 'stacks', 'app');
  await mkdir(workdir, { recursive: true });
  await writeFile(join(workdir, 'main.tf'), files.stack);
  for (const [dir, text] of Object.entries(files.modules ?? { tags: MODULE })) {
    await mkdir(join(tree, 'modules', dir), { recursive: true });
    await writeFile(join(tree, 'modules', dir, 'main.tf'), text);
  }
  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { msg?: string; command?: string; args?: string[] };
        if (entry.msg === 'executing command' && entry.command === 'terraform') commands.push(entry.args![0]!);
      }
      done();
    },
  });
  return {
    unit,
    revision: `rev${runs}`,
    workdir,
    repoDir: tree,
    artifactsDir: join(root, 'runs', String(runs), 'artifacts'),
    unitStateDir: unitStateDir(),
    vars: {},
    sensitiveVars: [],
    resolvedSpec: unit.spec,
    signal: AbortSignal.timeout(300_000),
    log: createLogger({ level: 'debug', destination: lines }),
  };
}

/** The terraform subcommands one plan (or apply) ran. */
async function commandsOf(action: () => Promise<unknown>): Promise<string[]> {
  const from = commands.length;
  await action();
  return commands.slice(from);
}

describe('terraform data dir kept across runs', { timeout: 900_000 }, () => {
  it('inits once, then plans and applies an unchanged stack without init, in a new workspace each time', async () => {
    const first = await request({ stack: stack() });
    assert.deepEqual(await commandsOf(() => provider.plan(first)), ['init', 'plan', 'show']);
    await stat(join(unitStateDir(), DATA_DIR, 'modules', 'modules.json'));
    await assert.rejects(stat(join(first.workdir, '.terraform')), 'nothing of init is left in the workspace');

    const second = await request({ stack: stack() });
    let outcome: Awaited<ReturnType<Provider['plan']>> | undefined;
    assert.deepEqual(await commandsOf(async () => (outcome = await provider.plan(second))), ['plan', 'show']);
    assert.deepEqual(outcome!.summary, { add: 2, change: 0, destroy: 0, replace: 0 });
    // The apply runs in the workdir kept from its plan: that init still holds.
    assert.deepEqual(await commandsOf(() => provider.apply(second)), ['apply']);
  });

  it('plans a changed local module without init: terraform reads it through its relative path', async () => {
    const changed = await request({ stack: stack(), modules: { tags: `${MODULE}\nresource "terraform_data" "extra" {\n  input = "x"\n}\n` } });
    let outcome: Awaited<ReturnType<Provider['plan']>> | undefined;
    assert.deepEqual(await commandsOf(async () => (outcome = await provider.plan(changed))), ['plan', 'show']);
    assert.deepEqual(outcome!.summary, { add: 1, change: 0, destroy: 0, replace: 0 });
    assert.match(outcome!.rendered, /module\.tags\.terraform_data\.extra will be created/);
  });

  it('inits again when a module call moves to another source', async () => {
    const moved = await request({ stack: stack({ moduleDir: 'labels' }), modules: { labels: MODULE } });
    assert.deepEqual(await commandsOf(() => provider.plan(moved)), ['init', 'plan', 'show']);
    assert.deepEqual(await commandsOf(async () => provider.plan(await request({ stack: stack({ moduleDir: 'labels' }), modules: { labels: MODULE } }))), ['plan', 'show']);
  });

  it('inits again when the backend changes', async () => {
    const own = join(root, 'own-state', 'app.tfstate');
    const terraformBlock = `terraform {\n  backend "local" {\n    path = "${own}"\n  }\n}\n`;
    const withBackend = await request({ stack: stack({ terraformBlock }) });
    assert.deepEqual(await commandsOf(() => provider.plan(withBackend)), ['init', 'plan', 'show']);
    // Back to the state Plumbline places: init again, and the applied state is there.
    const back = await request({ stack: stack() });
    let outcome: Awaited<ReturnType<Provider['plan']>> | undefined;
    assert.deepEqual(await commandsOf(async () => (outcome = await provider.plan(back))), ['init', 'plan', 'show']);
    assert.equal(outcome!.hasChanges, false);
  });

  it('inits again when a provider version changes', async () => {
    const requiring = (version: string) => `terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "${version}"\n    }\n  }\n}\n`;
    assert.deepEqual(await commandsOf(async () => provider.plan(await request({ stack: stack({ terraformBlock: requiring('>= 5.0') }) }))), ['init', 'plan', 'show']);
    assert.deepEqual(await commandsOf(async () => provider.plan(await request({ stack: stack({ terraformBlock: requiring('>= 5.0') }) }))), ['plan', 'show']);
    assert.deepEqual(await commandsOf(async () => provider.plan(await request({ stack: stack({ terraformBlock: requiring('5.100.0') }) }))), ['init', 'plan', 'show']);
  });

  it('does not trust a data dir whose init did not finish, nor one whose providers are gone', async () => {
    await provider.plan(await request({ stack: stack() }));
    // An init interrupted halfway leaves no fingerprint.
    await rm(join(unitStateDir(), DATA_DIR, 'plumbline-init-fingerprint'));
    assert.deepEqual(await commandsOf(async () => provider.plan(await request({ stack: stack() }))), ['init', 'plan', 'show']);

    // A provider that no longer resolves (its cache entry removed).
    const providers = join(unitStateDir(), DATA_DIR, 'providers', 'registry.terraform.io', 'hashicorp', 'aws');
    const requiring = `terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n    }\n  }\n}\n`;
    await provider.plan(await request({ stack: stack({ terraformBlock: requiring }) }));
    const [version] = await readdir(providers);
    const platform = join(providers, version!, 'linux_amd64');
    await rm(platform, { recursive: true, force: true });
    await symlink(join(root, 'gone'), platform);
    let outcome: Awaited<ReturnType<Provider['plan']>> | undefined;
    assert.deepEqual(await commandsOf(async () => (outcome = await provider.plan(await request({ stack: stack({ terraformBlock: requiring }) })))), ['init', 'plan', 'show']);
    assert.equal(outcome!.hasChanges, false);
  });
});
