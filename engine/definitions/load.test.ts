import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { formatProblem } from '../errors.ts';
import { loadDefinitions } from './load.ts';

/** Cases the corpus cannot hold: symlinks, and properties of the whole result. */

const DEFAULTS = { approval: 'manual', applyAfterMs: null } as const;
const scratch = await mkdtemp(join(tmpdir(), 'plumbline-defs-'));
after(() => rm(scratch, { recursive: true, force: true }));

let counter = 0;
async function repo(files: Record<string, string>): Promise<string> {
  const root = join(scratch, `repo-${(counter += 1)}`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  await mkdir(root, { recursive: true });
  return root;
}

async function problemsOf(root: string): Promise<string[]> {
  return (await loadDefinitions(root, DEFAULTS)).problems.map(formatProblem);
}

test('a repository without stacks/ or inventories/ has no units and no problems', async () => {
  const { units, problems, folders } = await loadDefinitions(await repo({ 'README.md': '' }), DEFAULTS);
  assert.deepEqual({ units, problems, folders }, { units: [], problems: [], folders: [] });
});

test('units come sorted by name, with the manifest hash and repository-relative paths', async () => {
  const text = 'kind: terraform\n';
  const root = await repo({ 'stacks/zz/stack.yaml': text, 'stacks/zz/main.tf': '', 'stacks/aa/stack.yaml': text, 'stacks/aa/x.tf.json': '{}' });
  const { units } = await loadDefinitions(root, DEFAULTS);
  assert.deepEqual(units.map((u) => [u.name, u.path, u.file]), [
    ['aa', 'stacks/aa', 'stacks/aa/stack.yaml'],
    ['zz', 'stacks/zz', 'stacks/zz/stack.yaml'],
  ]);
  assert.equal(units[0]?.manifestHash, createHash('sha256').update(text).digest('hex'));
  assert.equal(units[0]?.approval, 'manual');
  assert.equal(units[0]?.applyAfterMs, null);
});

test('every folder with a manifest is listed, invalid units included (workspaces leave them out)', async () => {
  const root = await repo({ 'stacks/ok/stack.yaml': 'kind: terraform\n', 'stacks/ok/main.tf': '', 'stacks/bad/stack.yaml': 'kind: [\n', 'modules/m/main.tf': '' });
  const { units, folders } = await loadDefinitions(root, DEFAULTS);
  assert.deepEqual(units.map((u) => u.name), ['ok']);
  assert.deepEqual(folders, ['stacks/bad', 'stacks/ok']);
});

test('an entry that is a symlink leading outside the repository is refused', async () => {
  const root = await repo({ 'stacks/app/stack.yaml': 'kind: cdktf\nentry: main.ts\n' });
  const outside = await repo({ 'main.ts': '' });
  await symlink(join(outside, 'main.ts'), join(root, 'stacks/app/main.ts'));
  assert.deepEqual(await problemsOf(root), [
    'stacks/app/stack.yaml:2:1: entry: "main.ts" is a symlink that leads outside the repository (paths are relative to the unit folder and must stay inside the repository)',
  ]);
});

test('an entry, playbook or inventory may live anywhere inside the repository', async () => {
  const root = await repo({
    'stacks/app-prod/stack.yaml': 'kind: cdktf\nentry: ../../app/main.ts\nstackName: prod\n',
    'app/main.ts': '',
    'inventories/production/inventory.yaml': 'playbook: ../../site.yml\ninventory: hosts\nssh:\n  knownHostsFile: ../../known_hosts\n',
    'inventories/production/hosts': '',
    'site.yml': '',
    known_hosts: '',
  });
  const { units, problems } = await loadDefinitions(root, DEFAULTS);
  assert.deepEqual(problems, []);
  const app = units.find((u) => u.name === 'app-prod')!;
  assert.equal(app.kind, 'cdktf');
  assert.equal((app.spec as { entry: string }).entry, 'app/main.ts');
  const inventory = units.find((u) => u.name === 'production')!.spec as { playbook: string; inventory: string; ssh: { knownHostsFile: string } };
  assert.deepEqual([inventory.playbook, inventory.inventory, inventory.ssh.knownHostsFile], ['site.yml', 'inventories/production/hosts', 'known_hosts']);
});

test('units are found at any depth; the name is the path below stacks/ or inventories/, or name:', async () => {
  const tf = 'kind: terraform\n';
  const root = await repo({
    'stacks/prod/eu-west-1/vpc/stack.yaml': tf,
    'stacks/prod/eu-west-1/vpc/main.tf': '',
    'stacks/prod/eu-west-1/vpc/modules/sub/stack.yaml': 'not read: inside a unit folder\n',
    'stacks/staging/db/stack.yaml': 'name: staging-db\nkind: terraform\ndependsOn: [prod/eu-west-1/vpc]\n',
    'stacks/staging/db/main.tf': '',
    'stacks/modules/vpc/main.tf': '',
    'stacks/node_modules/x/stack.yaml': 'never read\n',
    'inventories/eu/web/inventory.yaml': 'playbook: site.yml\n',
    'inventories/eu/web/hosts.yml': '',
    'inventories/eu/web/site.yml': '',
  });
  const { units, problems } = await loadDefinitions(root, DEFAULTS);
  assert.deepEqual(problems, []);
  assert.deepEqual(units.map((u) => [u.name, u.path]), [
    ['eu/web', 'inventories/eu/web'],
    ['prod/eu-west-1/vpc', 'stacks/prod/eu-west-1/vpc'],
    ['staging-db', 'stacks/staging/db'],
  ]);
  assert.deepEqual(units[2]!.dependsOn, ['prod/eu-west-1/vpc']);
});

test('a name: that is not a valid name, and a name two units share, are reported', async () => {
  const root = await repo({
    'stacks/a/stack.yaml': 'name: Shared Net\nkind: terraform\n',
    'stacks/a/main.tf': '',
    'stacks/b/x/stack.yaml': 'name: b/y\nkind: terraform\n',
    'stacks/b/x/main.tf': '',
    'stacks/b/y/stack.yaml': 'kind: terraform\n',
    'stacks/b/y/main.tf': '',
  });
  assert.deepEqual(await problemsOf(root), [
    'stacks/a/stack.yaml:1:1: name: invalid unit name "Shared Net" (use lowercase letters, digits, "-" and "_", segments joined by "/", each at most 63 characters)',
    'stacks/b/x/stack.yaml:1:1: duplicate unit name "b/y": stacks/b/y/stack.yaml defines it too (names are unique across stacks and inventories)',
    'stacks/b/y/stack.yaml:1:1: duplicate unit name "b/y": stacks/b/x/stack.yaml defines it too (names are unique across stacks and inventories)',
  ]);
});

test('watch: globs are relative to the unit folder, repository-relative once loaded, and never leave the repository', async () => {
  const root = await repo({
    'stacks/app/stack.yaml': 'kind: terraform\nwatch: ["../../shared/**/*.json", "policies/*.rego"]\n',
    'stacks/app/main.tf': '',
    'stacks/bad/stack.yaml': 'kind: terraform\nwatch: ["../../../etc/*"]\n',
    'stacks/bad/main.tf': '',
  });
  const { units, problems } = await loadDefinitions(root, DEFAULTS);
  assert.deepEqual(units.map((u) => [u.name, u.watch]), [['app', ['shared/**/*.json', 'stacks/app/policies/*.rego']]]);
  assert.deepEqual(problems.map(formatProblem), [
    'stacks/bad/stack.yaml:2:9: watch[0]: "../../../etc/*" leads outside the repository (paths are relative to the unit folder and must stay inside the repository)',
  ]);
});

test('a symlink that stays inside the folder is fine', async () => {
  const root = await repo({ 'stacks/app/stack.yaml': 'kind: cdktf\nentry: main.ts\n', 'stacks/app/src/app.ts': '' });
  await symlink('src/app.ts', join(root, 'stacks/app/main.ts'));
  const { units, problems } = await loadDefinitions(root, DEFAULTS);
  assert.deepEqual(problems, []);
  assert.equal((units[0]?.spec as { entry: string }).entry, 'stacks/app/main.ts');
});

test('a playbook reached through a symlinked folder leading outside is refused', async () => {
  const root = await repo({
    'inventories/web/inventory.yaml': 'playbook: plays/site.yml\n',
    'inventories/web/hosts.yml': '',
  });
  const elsewhere = await repo({ 'site.yml': '' });
  await symlink(elsewhere, join(root, 'inventories/web/plays'));
  assert.deepEqual(await problemsOf(root), [
    'inventories/web/inventory.yaml:1:1: playbook: "plays/site.yml" is a symlink that leads outside the repository (paths are relative to the unit folder and must stay inside the repository)',
  ]);
});

test('a broken symlink is reported as such', async () => {
  const root = await repo({ 'inventories/web/inventory.yaml': 'playbook: site.yml\n', 'inventories/web/site.yml': '' });
  await symlink('/nonexistent/hosts.yml', join(root, 'inventories/web/hosts.yml'));
  assert.deepEqual(await problemsOf(root), [
    'inventories/web/inventory.yaml:1:1: inventory: "hosts.yml" is a broken symlink (inventories/web/hosts.yml) (the default when inventory is not set)',
  ]);
});

test('a unit folder that is a symlink out of the repository is refused', async () => {
  const outside = await repo({ 'stack.yaml': 'kind: terraform\n', 'main.tf': '' });
  const root = await repo({ 'stacks/.keep': '' });
  await symlink(outside, join(root, 'stacks/net'));
  assert.deepEqual(await problemsOf(root), [
    'stacks/net/stack.yaml:1:1: stacks/net is a symlink that leads outside the repository; a unit folder must be a real folder',
  ]);
});

test('a manifest that is a symlink out of its folder is never read', async () => {
  const root = await repo({ 'stacks/net/main.tf': '', 'secret.yaml': 'kind: terraform\n' });
  await symlink(join(root, 'secret.yaml'), join(root, 'stacks/net/stack.yaml'));
  assert.deepEqual(await problemsOf(root), [
    'stacks/net/stack.yaml:1:1: the manifest is a symlink that leads outside stacks/net; it must be a real file',
  ]);
});

test('the repository root may itself be reached through a symlink', async () => {
  const root = await repo({ 'stacks/net/stack.yaml': 'kind: terraform\n', 'stacks/net/main.tf': '' });
  const link = join(scratch, 'link-to-repo');
  await symlink(root, link);
  assert.equal((await loadDefinitions(link, DEFAULTS)).units.length, 1);
});

test('an entry naming a folder is not a file', async () => {
  const root = await repo({ 'stacks/app/stack.yaml': 'kind: cdktf\nentry: src.ts\n', 'stacks/app/src.ts/index.ts': '' });
  assert.deepEqual(await problemsOf(root), ['stacks/app/stack.yaml:2:1: entry: "src.ts" is not a file']);
});

test('an inventory may be a folder; an absolute knownHostsFile is allowed', async () => {
  const root = await repo({
    'inventories/web/inventory.yaml': 'inventory: inv/\nplaybook: site.yml\nssh:\n  knownHostsFile: /etc/ssh/ssh_known_hosts\n',
    'inventories/web/inv/hosts.yml': '',
    'inventories/web/site.yml': '',
  });
  const { units, problems } = await loadDefinitions(root, DEFAULTS);
  assert.deepEqual(problems, []);
  assert.equal(units[0]?.kind, 'ansible');
  const spec = units[0]?.spec as { inventory: string; ssh: unknown };
  assert.equal(spec.inventory, 'inventories/web/inv');
  assert.deepEqual(spec.ssh, { user: null, privateKeyFile: null, knownHostsFile: '/etc/ssh/ssh_known_hosts', port: null });
});

test('an invalid unit is left out, but the units that depend on it see it as known', async () => {
  const root = await repo({
    'stacks/net/stack.yaml': 'kind: terraform\napproval: sometimes\n',
    'stacks/net/main.tf': '',
    'stacks/app/stack.yaml': 'kind: terraform\ndependsOn: [net]\n',
    'stacks/app/main.tf': '',
  });
  const { units, problems } = await loadDefinitions(root, DEFAULTS);
  assert.deepEqual(units.map((u) => u.name), ['app']);
  assert.deepEqual(problems.map((p) => p.file), ['stacks/net/stack.yaml']);
});

test('a cycle is still found when one of its units has other problems', async () => {
  const root = await repo({
    'stacks/a/stack.yaml': 'kind: terraform\ndependsOn: [b]\nextra: 1\n',
    'stacks/a/main.tf': '',
    'stacks/b/stack.yaml': 'kind: terraform\ndependsOn: [a]\n',
    'stacks/b/main.tf': '',
  });
  assert.deepEqual(await problemsOf(root), [
    'stacks/a/stack.yaml:2:13: dependency cycle: a -> b -> a',
    'stacks/a/stack.yaml:3:1: extra: unknown field (allowed: name, kind, entry, stackName, vars, secretVars, approval, applyAfter, dependsOn, drift, watch, prune, guard)',
  ]);
});

test('a misnamed manifest still counts as a unit name for dependsOn', async () => {
  const root = await repo({
    'stacks/net/stack.yml': 'kind: terraform\n',
    'stacks/app/stack.yaml': 'kind: terraform\ndependsOn: [net]\n',
    'stacks/app/main.tf': '',
  });
  assert.deepEqual(await problemsOf(root), [
    'stacks/net/stack.yml:1:1: a stack manifest must be named stack.yaml (found stack.yml); rename it so Plumbline reads it',
  ]);
});

test('every problem of every file is reported in one pass', async () => {
  const root = await repo({
    'stacks/a/stack.yaml': 'kind: nope\n',
    'stacks/b/stack.yaml': 'kind: [\n',
    'inventories/c/inventory.yaml': 'ssh: {port: 0}\n',
  });
  const lines = await problemsOf(root);
  assert.deepEqual(
    lines.map((l) => l.split(': ')[0]),
    [
      'inventories/c/inventory.yaml:1:1',
      'inventories/c/inventory.yaml:1:1',
      'inventories/c/inventory.yaml:1:7',
      'stacks/a/stack.yaml:1:1',
      'stacks/b/stack.yaml:2:1',
    ],
  );
});

test('a manifest over limits.manifestBytes is refused before it is read, naming the limit', async () => {
  const root = await repo({ 'stacks/big/stack.yaml': `kind: terraform\n# ${'x'.repeat(4000)}\n`, 'stacks/big/main.tf': '' });
  const { units, problems } = await loadDefinitions(root, DEFAULTS, { manifestBytes: 2048 });
  assert.deepEqual(units, []);
  assert.deepEqual(problems.map(formatProblem), [
    'stacks/big/stack.yaml:1:1: the manifest is 4019 bytes, more than the limit of 2048 bytes (limits.manifestBytes in the daemon config); it was not read',
  ]);
});
