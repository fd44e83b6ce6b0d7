import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { UnitDefinition } from '../../engine/provider-kit.ts';
import type { InventorySpec } from './manifest.ts';
import { forksFor, playbookArgs, resolveKnownHosts, sshArgs, treeRootOf } from './cli.ts';
import { DEFAULT_ANSIBLE_SETTINGS } from './settings.ts';
import { inventorySpec, inventoryUnit } from '../../testkit/ansible-units.ts';
import { toProblem } from './validate.ts';

const scratch = await mkdtemp(join(tmpdir(), 'plumbline-ansible-cli-'));
after(() => rm(scratch, { recursive: true, force: true }));

const spec = (over: Partial<InventorySpec> = {}): InventorySpec => inventorySpec('inventories/web', over);
const unit = (s: InventorySpec): UnitDefinition => inventoryUnit('inventories/web', s);

test('host keys are always checked against the inventory\'s file; ControlPersist under stateDir', () => {
  const args = sshArgs({ knownHostsFile: '/srv/tree/inventories/web/known_hosts', controlDir: '/var/lib/plumbline/cp', settings: DEFAULT_ANSIBLE_SETTINGS, privateKeyFile: '/etc/plumbline/keys/deploy' });
  assert.match(args, /-o StrictHostKeyChecking=yes/);
  assert.match(args, /-o KnownHostsCommand=none/);
  assert.match(args, /-o UserKnownHostsFile=\/srv\/tree\/inventories\/web\/known_hosts/);
  assert.match(args, /-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=\/var\/lib\/plumbline\/cp\/%C/);
  assert.match(args, /IdentitiesOnly=yes/);
  assert.doesNotMatch(args, /=no\b|\/dev\/null/);
  const off = sshArgs({ knownHostsFile: '/k h/known_hosts', controlDir: null, settings: { ...DEFAULT_ANSIBLE_SETTINGS, controlPersistMs: null }, privateKeyFile: null });
  assert.doesNotMatch(off, /Control/);
  assert.match(off, /UserKnownHostsFile="\/k h\/known_hosts"/);
});

test('forks: one per host, at most the manifest\'s forks and maxForks', () => {
  assert.equal(forksFor(3, spec(), DEFAULT_ANSIBLE_SETTINGS), 3);
  assert.equal(forksFor(300, spec(), DEFAULT_ANSIBLE_SETTINGS), 20);
  assert.equal(forksFor(300, spec({ forks: 50 }), { ...DEFAULT_ANSIBLE_SETTINGS, maxForks: 40 }), 40);
  assert.equal(forksFor(10, spec({ forks: 2 }), DEFAULT_ANSIBLE_SETTINGS), 2);
});

test('known_hosts: the repository\'s file, else <stateDir>/known_hosts/<inventory>, else a stalled error', async () => {
  const tree = join(scratch, 'tree');
  const stateDir = join(scratch, 'state');
  await mkdir(join(tree, 'inventories/web'), { recursive: true });
  assert.equal(treeRootOf(join(tree, 'inventories/web'), 'inventories/web'), tree);
  assert.throws(() => resolveKnownHosts(unit(spec()), spec(), tree, stateDir), { code: 'E_KNOWN_HOSTS_MISSING', retry: 'stalled' });
  await mkdir(join(stateDir, 'known_hosts'), { recursive: true });
  await writeFile(join(stateDir, 'known_hosts', 'web'), '');
  assert.equal(resolveKnownHosts(unit(spec()), spec(), tree, stateDir).file, join(stateDir, 'known_hosts', 'web'));
  await writeFile(join(tree, 'inventories/web/known_hosts'), '');
  assert.deepEqual(resolveKnownHosts(unit(spec()), spec(), tree, stateDir), { file: join(tree, 'inventories/web/known_hosts'), label: 'inventories/web/known_hosts' });
  // A file the manifest names explicitly has no fallback.
  const named = spec({ ssh: { user: null, privateKeyFile: null, knownHostsFile: 'inventories/web/keys/hosts', port: null } });
  assert.throws(() => resolveKnownHosts(unit(named), named, tree, stateDir), /inventories\/web\/keys\/hosts of inventory web does not exist/);
});

test('Ansible\'s error messages become problems at file, line and column', () => {
  const syntax = `ERROR! couldn't resolve module/action 'no_such_module'. This often indicates a misspelling, missing collection, or incorrect module path.

The error appears to be in '/srv/tree/inventories/web/site.yml': line 3, column 7, but may
be elsewhere in the file depending on the exact syntax problem.`;
  assert.deepEqual(toProblem(syntax, '/srv/tree', 'inventories/web/site.yml'), {
    file: 'inventories/web/site.yml',
    line: 3,
    column: 7,
    message: "couldn't resolve module/action 'no_such_module'. This often indicates a misspelling, missing collection, or incorrect module path.",
  });
  assert.deepEqual(toProblem('ERROR! something broke', '/srv/tree', 'inventories/web/hosts.yml'), { file: 'inventories/web/hosts.yml', line: 1, column: 1, message: 'something broke' });
});

test('a plan asks for diffs; the convergence check asks only whether anything would change', () => {
  const ctx = { inventoryPaths: ['/t/inventories/web/hosts.yml'], playbookPath: '/t/inventories/web/site.yml', spec: spec(), privateKeyFile: null, settings: DEFAULT_ANSIBLE_SETTINGS };
  const files = { vars: '/run/vars.json', limit: '/run/limit.txt' };
  const plan = playbookArgs(ctx, { check: true, forks: 3 }, files);
  assert.deepEqual(plan.slice(-2), ['--check', '--diff']);
  const proof = playbookArgs(ctx, { check: true, diff: false, limit: ['a'], forks: 1 }, files);
  assert.ok(proof.includes('--check'));
  assert.ok(!proof.includes('--diff'));
  assert.deepEqual(proof.slice(proof.indexOf('--limit'), proof.indexOf('--limit') + 2), ['--limit', '@/run/limit.txt']);
  const apply = playbookArgs(ctx, { check: false, forks: 3 }, files);
  assert.ok(!apply.includes('--check') && !apply.includes('--diff'));
});
