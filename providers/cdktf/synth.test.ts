import assert from 'node:assert/strict';
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isPlumblineError, type PlumblineError } from '../../engine/provider-kit.ts';
import { processCounts, silentLogger } from '../../testkit/providers.ts';
import { synthesize, type SynthOptions } from './synth.ts';
import { validateUnit } from './validate.ts';
import { cdktfUnit, installRoot, removeDir, tempDir, workspace } from '../../testkit/cdktf-units.ts';

const TIMEOUT_MS = 5 * 60 * 1000;

let root: string;
let stateDir: string;
let counter = 0;

before(async () => {
  root = await tempDir('synth');
  stateDir = join(root, 'state');
});
after(async () => {
  await removeDir(root);
});

/** A fresh workspace for one stack; returns the synth options for it. */
async function stack(
  name: string,
  files: Record<string, string>,
  options: { entry?: string; stackName?: string; copyFrom?: string; state?: string } = {},
): Promise<SynthOptions> {
  const dir = join(root, `run-${++counter}`);
  const repoFiles = Object.fromEntries(Object.entries(files).map(([path, text]) => [path.includes('/') ? path : `stacks/${name}/${path}`, text]));
  const workdir = await workspace(dir, `stacks/${name}`, repoFiles, options.copyFrom);
  return {
    unit: cdktfUnit(name, { entry: options.entry, stackName: options.stackName }),
    workdir,
    repoDir: join(dir, 'snapshot'),
    installRoot,
    stateDir: options.state ?? stateDir,
    timeoutMs: TIMEOUT_MS,
    log: silentLogger,
  };
}

async function synthFailure(options: SynthOptions): Promise<PlumblineError> {
  try {
    await synthesize(options);
  } catch (error) {
    assert.ok(isPlumblineError(error), `expected a PlumblineError, got ${String(error)}`);
    return error;
  }
  assert.fail('synthesis should have failed');
}

function assertNoAbsolutePaths(error: PlumblineError): void {
  for (const text of [error.message, error.hint ?? '']) {
    assert.ok(!text.includes(root), `no temporary path in: ${text}`);
    assert.ok(!text.includes(installRoot), `no installation path in: ${text}`);
  }
}

const SIMPLE_STACK = (body = ''): string => `import { App, TerraformOutput, TerraformStack } from 'cdktf';
const app = new App();
const stack = new TerraformStack(app, 'simple');
new TerraformOutput(stack, 'greeting', { value: 'hello' });
${body}
app.synth();
`;

describe('synthesis of the network example', () => {
  test('writes cdk.tf.json with the AWS provider and the four resources', async (t) => {
    const options = await stack('network', {}, { copyFrom: join(installRoot, 'stacks', 'network') });
    const result = await synthesize(options);

    assert.equal(result.stackName, 'network');
    assert.equal(result.stackDir, join(options.workdir, 'cdktf.out', 'stacks', 'network'));
    assert.equal(result.modules?.source, 'bundled');
    const config = JSON.parse(await readFile(join(result.stackDir, 'cdk.tf.json'), 'utf8'));
    const resources = Object.entries(config.resource as Record<string, Record<string, unknown>>).flatMap(([type, byName]) =>
      Object.keys(byName).map((name) => `${type}.${name}`),
    );
    assert.deepEqual(resources.sort(), ['aws_instance.server', 'aws_security_group.web', 'aws_subnet.subnet', 'aws_vpc.vpc']);
    assert.equal(config.terraform.required_providers.aws.source, 'aws');
    assert.equal(config.provider.aws[0].skip_credentials_validation, true);
    assert.deepEqual(Object.keys(config.variable).sort(), ['environment', 'region']);
    // The default local backend points back at a relative path, for the Terraform tooling to place.
    assert.deepEqual(config.terraform.backend, { local: { path: 'terraform.network.tfstate' } });
    // Imports resolve through a link to Plumbline's own libraries.
    assert.ok((await lstat(join(options.workdir, 'node_modules'))).isSymbolicLink());
    assert.equal(await readlink(join(options.workdir, 'node_modules')), join(installRoot, 'node_modules'));
    t.diagnostic(`network synthesis took ${result.durationMs} ms`);
  });
});

describe('synthesis errors', () => {
  test('a TypeScript syntax error names the file, line and column', async () => {
    const options = await stack('broken', {
      'main.ts': `import { App } from 'cdktf';\n\nconst app = new App(;\napp.synth();\n`,
    });
    const error = await synthFailure(options);
    assert.equal(error.code, 'E_CDKTF_SYNTH');
    assert.equal(error.retry, 'stalled');
    assert.match(error.message, /stacks\/broken\/main\.ts:3:\d+: syntax error: /);
    assert.deepEqual({ file: error.details?.file, line: error.details?.line }, { file: 'stacks/broken/main.ts', line: 3 });
    assertNoAbsolutePaths(error);
  });

  test('an exception thrown by the stack names the file, line and column, and the error', async () => {
    const options = await stack('throws', {
      'main.ts': [
        "import { App, TerraformStack } from 'cdktf';",
        '',
        'class Broken extends TerraformStack {',
        '  constructor(scope: App, id: string) {',
        '    super(scope, id);',
        "    throw new Error('subnet size must be between 16 and 28');",
        '  }',
        '}',
        'const app = new App();',
        "new Broken(app, 'broken');",
        'app.synth();',
        '',
      ].join('\n'),
    });
    const error = await synthFailure(options);
    assert.equal(error.code, 'E_CDKTF_SYNTH');
    assert.equal(error.retry, 'stalled');
    assert.match(error.message, /^cdktf synth failed at stacks\/throws\/main\.ts:6:11: Error: subnet size must be between 16 and 28$/);
    assert.deepEqual(error.details, { file: 'stacks/throws/main.ts', line: 6, column: 11 });
    assertNoAbsolutePaths(error);
  });

  test('an error thrown by cdktf itself points at the stack line that triggered it', async () => {
    const options = await stack('dupe', {
      'main.ts': [
        "import { App, TerraformOutput, TerraformStack } from 'cdktf';",
        'const app = new App();',
        "const stack = new TerraformStack(app, 'dupe');",
        "new TerraformOutput(stack, 'same', { value: 1 });",
        "new TerraformOutput(stack, 'same', { value: 2 });",
        'app.synth();',
        '',
      ].join('\n'),
    });
    const error = await synthFailure(options);
    assert.equal(error.code, 'E_CDKTF_SYNTH');
    assert.match(error.message, /stacks\/dupe\/main\.ts:5:\d+: Error: There is already a Construct with name 'same'/);
    assertNoAbsolutePaths(error);
  });

  test('top-level await in a CommonJS entry gets a hint about ES modules', async () => {
    const options = await stack('tla', { 'main.ts': SIMPLE_STACK().replace('app.synth();', 'await Promise.resolve();\napp.synth();') });
    const error = await synthFailure(options);
    assert.equal(error.code, 'E_CDKTF_SYNTH');
    assert.match(error.message, /stacks\/tla\/main\.ts:6:1: syntax error: Top-level await/);
    assert.match(error.hint ?? '', /main\.mts/);
  });

  test('an app that never calls synth() is E_CDKTF_MANIFEST', async () => {
    const options = await stack('nosynth', { 'main.ts': SIMPLE_STACK().replace('app.synth();', '') });
    const error = await synthFailure(options);
    assert.equal(error.code, 'E_CDKTF_MANIFEST');
    assert.match(error.message, /stacks\/nosynth\/main\.ts ran but did not synthesize/);
  });

  test('a missing entry is E_CDKTF_ENTRY', async () => {
    const options = await stack('noentry', { 'other.ts': SIMPLE_STACK() });
    const error = await synthFailure(options);
    assert.equal(error.code, 'E_CDKTF_ENTRY');
    assert.match(error.message, /stacks\/noentry\/main\.ts does not exist/);
  });
});

describe('stack selection', () => {
  const TWO_STACKS = `import { App, TerraformOutput, TerraformStack } from 'cdktf';
const app = new App();
for (const name of ['staging', 'production']) {
  const stack = new TerraformStack(app, name);
  new TerraformOutput(stack, 'name', { value: name });
}
app.synth();
`;

  test('several stacks without stackName is an error listing them', async () => {
    const error = await synthFailure(await stack('multi', { 'main.ts': TWO_STACKS }));
    assert.equal(error.code, 'E_CDKTF_STACK');
    assert.match(error.message, /synthesizes 2 stacks \(production, staging\)/);
    assert.match(error.hint ?? '', /stackName/);
  });

  test('stackName picks one', async () => {
    const result = await synthesize(await stack('multi', { 'main.ts': TWO_STACKS }, { stackName: 'production' }));
    assert.equal(result.stackName, 'production');
    const config = JSON.parse(await readFile(join(result.stackDir, 'cdk.tf.json'), 'utf8'));
    assert.deepEqual(config.output.name, { value: 'production' });
  });

  test('an unknown stackName lists the stacks there are', async () => {
    const error = await synthFailure(await stack('multi', { 'main.ts': TWO_STACKS }, { stackName: 'qa' }));
    assert.equal(error.code, 'E_CDKTF_STACK');
    assert.match(error.message, /no stack named qa \(it synthesizes: production, staging\)/);
  });
});

describe('module styles', () => {
  test('an ES module entry (.mts) with top-level await', async () => {
    const result = await synthesize(
      await stack('esm', { 'main.mts': SIMPLE_STACK().replace('app.synth();', 'await Promise.resolve();\napp.synth();') }, { entry: 'main.mts' }),
    );
    assert.equal(result.stackName, 'simple');
  });

  test('a CommonJS-style stack using require()', async () => {
    const source = `const { App, TerraformStack } = require('cdktf');
const { Vpc } = require('@cdktf/provider-aws/lib/vpc');
const { AwsProvider } = require('@cdktf/provider-aws/lib/provider');
const app = new App();
const stack = new TerraformStack(app, 'cjs');
new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
new Vpc(stack, 'vpc', { cidrBlock: '10.0.0.0/16' });
app.synth();
`;
    for (const entry of ['main.ts', 'main.cts']) {
      const result = await synthesize(await stack('cjs', { [entry]: source }, { entry }));
      const config = JSON.parse(await readFile(join(result.stackDir, 'cdk.tf.json'), 'utf8'));
      assert.ok(config.resource.aws_vpc.vpc, entry);
    }
  });

  test('shared code outside the stack folder imports the same libraries, and its errors name it', async () => {
    const files = {
      // A sibling stack: the workspace links it next to the copied stack folder.
      'stacks/sibling/main.tf': '',
      'lib/naming.ts': [
        "import { Fn } from 'cdktf';",
        'export function prefixed(name: string): string {',
        "  if (name === '') throw new RangeError('empty name');",
        '  return Fn.lower(`Demo-${name}`);',
        '}',
        '',
      ].join('\n'),
      'main.ts': SIMPLE_STACK("import { prefixed } from '../../lib/naming.ts';\nnew TerraformOutput(stack, 'name', { value: prefixed(process.env.STACK_NAME_FOR_TEST ?? 'web') });"),
    };
    const ok = await synthesize(await stack('shared', files));
    const config = JSON.parse(await readFile(join(ok.stackDir, 'cdk.tf.json'), 'utf8'));
    assert.equal(config.output.name.value, '${lower("Demo-web")}');

    const broken = { ...files, 'main.ts': files['main.ts'].replace("?? 'web'", "?? ''") };
    const error = await synthFailure(await stack('shared', broken));
    assert.match(error.message, /at lib\/naming\.ts:3:\d+: RangeError: empty name$/);
    assertNoAbsolutePaths(error);
  });
});

describe('stacks with their own package.json', () => {
  const PACKAGE_JSON = JSON.stringify({ name: 'own-package-stack', private: true, type: 'module', dependencies: { 'is-number': '7.0.0' } }, null, 2);
  const PACKAGE_LOCK = JSON.stringify(
    {
      name: 'own-package-stack',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'own-package-stack', dependencies: { 'is-number': '7.0.0' } },
        'node_modules/is-number': {
          version: '7.0.0',
          resolved: 'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz',
          integrity: 'sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==',
          license: 'MIT',
          engines: { node: '>=0.12.0' },
        },
      },
    },
    null,
    2,
  );
  const MAIN = SIMPLE_STACK(
    "import isNumber from 'is-number';\nawait Promise.resolve();\nnew TerraformOutput(stack, 'checked', { value: isNumber('42') ? 'number' : 'not a number' });",
  );

  test('installs once per lockfile, reuses the cache, and still gets the bundled toolkit', async () => {
    const state = join(root, 'own-state');
    const files = { 'package.json': PACKAGE_JSON, 'package-lock.json': PACKAGE_LOCK, 'main.ts': MAIN };
    const npmRuns = processCounts.get('npm') ?? 0;

    const first = await synthesize(await stack('own', files, { state }));
    assert.equal(first.modules?.source, 'lockfile');
    assert.equal(first.modules?.installed, true);
    const config = JSON.parse(await readFile(join(first.stackDir, 'cdk.tf.json'), 'utf8'));
    assert.equal(config.output.checked.value, 'number');

    const second = await synthesize(await stack('own', files, { state }));
    assert.equal(second.modules?.installed, false);
    assert.equal(second.modules?.lockHash, first.modules?.lockHash);
    assert.equal((processCounts.get('npm') ?? 0) - npmRuns, 1, 'npm ci ran once');

    const cache = join(state, 'cdktf-modules');
    assert.deepEqual(await readdir(cache), [first.modules!.lockHash!]);
    const nodeModules = join(second.modules!.nodeModules);
    assert.equal(await realpath(join(nodeModules, 'is-number')), join(cache, first.modules!.lockHash!, 'node_modules', 'is-number'));
    assert.equal(await realpath(join(nodeModules, 'cdktf')), await realpath(join(installRoot, 'node_modules', 'cdktf')));
    // Only what the lockfile installs, plus the toolkit: not the rest of Plumbline's dependencies.
    await assert.rejects(lstat(join(nodeModules, 'zod')));
  });

  test('concurrent first runs with the same lockfile install into one cache folder', async () => {
    const state = join(root, 'race-state');
    const files = { 'package.json': PACKAGE_JSON, 'package-lock.json': PACKAGE_LOCK, 'main.ts': MAIN };
    const npmRuns = processCounts.get('npm') ?? 0;
    const results = await Promise.all([1, 2, 3].map(async () => synthesize(await stack('own', files, { state }))));
    for (const result of results) assert.equal(result.stackName, 'simple');
    assert.equal(results.filter((r) => r.modules?.installed).length, 1);
    assert.equal((processCounts.get('npm') ?? 0) - npmRuns, 1, 'npm ci ran once');
    assert.deepEqual(await readdir(join(state, 'cdktf-modules')), [results[0]!.modules!.lockHash!]);
  });

  test('a package.json without a lockfile is a stalled error asking to commit one', async () => {
    const options = await stack('nolock', { 'package.json': PACKAGE_JSON, 'main.ts': MAIN });
    const error = await synthFailure(options);
    assert.equal(error.code, 'E_CDKTF_LOCKFILE');
    assert.equal(error.retry, 'stalled');
    assert.match(error.message, /stacks\/nolock\/package\.json has no package-lock\.json/);
    assert.match(error.hint ?? '', /commit the package-lock\.json/);

    const problems = await validateUnit(options.unit, options.workdir);
    assert.deepEqual(
      problems.map((p) => p.file),
      ['stacks/nolock/package.json'],
    );
  });
});

describe('import problems: one code and hint each', () => {
  const USES = (line: string): string => `import { App, TerraformStack } from 'cdktf';\n${line}\nconst app = new App();\nnew TerraformStack(app, String(value));\napp.synth();\n`;

  test('a package neither bundled nor in a package.json', async () => {
    const error = await synthFailure(await stack('bare', { 'main.ts': USES("import { value } from 'left-pad-nope';") }));
    assert.equal(error.code, 'E_CDKTF_IMPORT_PACKAGE');
    assert.match(error.message, /^cdktf synth failed at stacks\/bare\/main\.ts:2:23: left-pad-nope is not installed: the app has no package\.json/);
    assert.match(error.hint ?? '', /npm install left-pad-nope` in stacks\/bare and commit package\.json and package-lock\.json/);
    assertNoAbsolutePaths(error);
  });

  test('a relative import of a file the repository does not have', async () => {
    const error = await synthFailure(await stack('relative', { 'main.ts': USES("import { value } from './settings';") }));
    assert.equal(error.code, 'E_CDKTF_IMPORT_FILE');
    assert.match(error.message, /at stacks\/relative\/main\.ts:2:23: \.\/settings does not exist in the repository/);
    assert.match(error.hint ?? '', /commit stacks\/relative\/settings\.ts/);
    assertNoAbsolutePaths(error);
  });

  test('an import that leaves the repository, from an ES module entry', async () => {
    const error = await synthFailure(await stack('outside', { 'main.mts': USES("import { value } from '../../../shared/settings.ts';") }, { entry: 'main.mts' }));
    assert.equal(error.code, 'E_CDKTF_IMPORT_OUTSIDE');
    assert.match(error.message, /at stacks\/outside\/main\.mts:2:23: \.\.\/\.\.\/\.\.\/shared\/settings\.ts leads outside the repository/);
    assertNoAbsolutePaths(error);
  });

  test('an installed package without the named export, as ES module and as CommonJS', async () => {
    const esm = await synthFailure(await stack('export', { 'main.mts': USES("import { NoSuchConstruct as value } from 'cdktf';") }, { entry: 'main.mts' }));
    assert.equal(esm.code, 'E_CDKTF_IMPORT_EXPORT');
    assert.match(esm.message, /cdktf \(0\.21\.\d+, bundled with Plumbline\) has no export named NoSuchConstruct/);

    const cjs = await synthFailure(
      await stack('export', { 'main.ts': "import { App, NoSuchStack } from 'cdktf';\nconst app = new App();\nnew NoSuchStack(app, 'x');\napp.synth();\n" }),
    );
    assert.equal(cjs.code, 'E_CDKTF_IMPORT_EXPORT');
    assert.match(cjs.message, /at stacks\/export\/main\.ts:3:1: NoSuchStack, imported from cdktf \(0\.21\.\d+, bundled with Plumbline\), is undefined/);
  });

  test('an ES module with top-level await imported by a CommonJS app', async () => {
    const error = await synthFailure(
      await stack('format', {
        'main.ts': USES("import { value } from './settings.mts';"),
        'settings.mts': "export const value = await Promise.resolve('eu');\n",
      }),
    );
    assert.equal(error.code, 'E_CDKTF_IMPORT_FORMAT');
    assert.match(error.message, /at stacks\/format\/settings\.mts:1:\d+: syntax error: Top-level await/);
    assert.match(error.hint ?? '', /rename the entry stacks\/format\/main\.ts to main\.mts/);
  });
});

describe('toolkit versions', () => {
  const PINNED = JSON.stringify({ name: 'pinned', private: true, dependencies: { constructs: '10.0.0' } });
  const PINNED_LOCK = JSON.stringify({
    name: 'pinned',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'pinned', dependencies: { constructs: '10.0.0' } },
      'node_modules/constructs': {
        version: '10.0.0',
        resolved: 'https://registry.npmjs.org/constructs/-/constructs-10.0.0.tgz',
        integrity: 'sha512-MIwjmrXZpM9RtwyrSD4HotDIQl8HTdIefQhU+MU1asvtSyVN3kK8kjeUOWMFb+fdyT4RX3QvvcaaPBluLEX1SA==',
        license: 'Apache-2.0',
      },
    },
  });
  const NETWORK = `import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
class Network extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new Vpc(this, 'vpc', { cidrBlock: '10.0.0.0/16' });
  }
}
const app = new App();
const stack = new TerraformStack(app, 'pinned');
new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
new Network(stack, 'network');
app.synth();
`;

  test('a stack pinning another constructs than the bundled cdktf uses: which versions to align', async () => {
    const error = await synthFailure(await stack('pinned', { 'package.json': PINNED, 'package-lock.json': PINNED_LOCK, 'main.ts': NETWORK }));
    assert.equal(error.code, 'E_CDKTF_VERSION_MISMATCH');
    assert.equal(error.retry, 'stalled');
    // The error the stack died of, then the cause.
    assert.match(error.message, /stacks\/pinned\/main\.ts:\d+:\d+: TypeError: .*_scopes is not iterable/);
    assert.match(error.message, /two copies of constructs are loaded: 10\.0\.0 \(stacks\/pinned\/package\.json's\), which the app imports, and 10\.\d+\.\d+, which Plumbline's bundled cdktf 0\.21\.\d+ loads/);
    assert.match(error.hint ?? '', /^align constructs: set "constructs": "\^10\.\d+\.\d+" in stacks\/pinned\/package\.json/);
    assertNoAbsolutePaths(error);
  });
});

describe('an app outside the unit folder', () => {
  const APP = `import { App, TerraformOutput, TerraformStack } from 'cdktf';
import isNumber from 'is-number';
import { label } from './lib/label.ts';
const app = new App();
for (const name of ['prod', 'dev']) {
  const stack = new TerraformStack(app, name);
  new TerraformOutput(stack, 'label', { value: label(name) + (isNumber('1') ? '' : '?') });
}
app.synth();
`;
  const PACKAGE_JSON = JSON.stringify({ name: 'shared-app', private: true, dependencies: { 'is-number': '7.0.0' } });
  const PACKAGE_LOCK = JSON.stringify({
    name: 'shared-app',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'shared-app', dependencies: { 'is-number': '7.0.0' } },
      'node_modules/is-number': {
        version: '7.0.0',
        resolved: 'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz',
        integrity: 'sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==',
      },
    },
  });

  test('synthesizes from the app folder, installs its packages, and writes only into the unit folder', async () => {
    const files = {
      'app/main.ts': APP,
      'app/lib/label.ts': "export const label = (name: string): string => `app-${name}`;\n",
      'app/package.json': PACKAGE_JSON,
      'app/package-lock.json': PACKAGE_LOCK,
      'app/cdktf.json': JSON.stringify({ app: 'npx tsx main.ts', context: { team: 'infra' } }),
      'stacks/app-dev/stack.yaml': 'kind: cdktf\nentry: ../../app/main.ts\nstackName: dev\n',
    };
    const options = await stack('app-dev', files, { entry: '../../app/main.ts', stackName: 'dev' });
    const snapshot = options.repoDir;
    const before = await listTree(snapshot);

    const result = await synthesize(options);
    assert.equal(result.stackName, 'dev');
    assert.equal(result.stackDir, join(options.workdir, 'cdktf.out', 'stacks', 'dev'));
    assert.equal(result.modules?.source, 'lockfile');
    const config = JSON.parse(await readFile(join(result.stackDir, 'cdk.tf.json'), 'utf8'));
    assert.equal(config.output.label.value, 'app-dev');
    assert.deepEqual(await listTree(snapshot), before, 'nothing is written into the repository snapshot');

    const failing = { ...files, 'app/lib/label.ts': "export const label = (name: string): string => {\n  throw new Error(`no label for ${name}`);\n};\n" };
    const error = await synthFailure(await stack('app-dev', failing, { entry: '../../app/main.ts', stackName: 'dev' }));
    assert.match(error.message, /^cdktf synth failed at app\/lib\/label\.ts:2:9: Error: no label for prod$/);
    assert.match(error.hint ?? '', /run `npx tsx main\.ts` in app to reproduce/);
    assertNoAbsolutePaths(error);
  });
});

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => join(e.parentPath ?? e.path, e.name)).sort();
}
