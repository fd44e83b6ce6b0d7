import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { UnitDefinition } from '../../engine/provider-kit.ts';
import { providerContext, testConfig } from '../../testkit/providers.ts';
import type { InventorySpec } from './manifest.ts';
import { inventorySpec, inventoryUnit } from '../../testkit/ansible-units.ts';
import { validateInventory } from './validate.ts';

const scratch = await mkdtemp(join(tmpdir(), 'plumbline-ansible-validate-test-'));
after(() => rm(scratch, { recursive: true, force: true }));
const context = providerContext(testConfig({ source: { url: scratch }, stateDir: join(scratch, 'state') }));

async function inventoryIn(files: Record<string, string>, over: Partial<InventorySpec> = {}): Promise<{ unit: UnitDefinition; dir: string }> {
  const root = await mkdtemp(join(scratch, 'repo-'));
  const dir = join(root, 'inventories/web');
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return { dir, unit: inventoryUnit('inventories/web', inventorySpec('inventories/web', over)) };
}

const hosts = 'all:\n  hosts:\n    web-1:\n      ansible_host: 127.0.0.2\n';

test('a valid inventory and playbook have no problem', async () => {
  const { unit, dir } = await inventoryIn({ 'hosts.yml': hosts, 'site.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n' });
  assert.deepEqual(await validateInventory(unit, dir, context), []);
});

test('a playbook Ansible refuses: its file, line, column and message', async () => {
  const { unit, dir } = await inventoryIn({ 'hosts.yml': hosts, 'site.yml': '- hosts: all\n  tasks:\n    - name: typo\n      no_such_module: {a: 1}\n' });
  const problems = await validateInventory(unit, dir, context);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.file, 'inventories/web/site.yml');
  assert.equal(problems[0]!.line, 3);
  assert.match(problems[0]!.message, /couldn't resolve module\/action 'no_such_module'/);
});

test('an inventory that does not parse is a problem in the inventory file', async () => {
  const { unit, dir } = await inventoryIn({ 'hosts.yml': 'all:\n  hosts: [web-1\n', 'site.yml': '- hosts: all\n  tasks: []\n' });
  const problems = await validateInventory(unit, dir, context);
  assert.ok(problems.length >= 1);
  assert.equal(problems[0]!.file, 'inventories/web/hosts.yml');
  assert.ok(problems[0]!.line > 1, JSON.stringify(problems[0]));
});

test('hosts only from hostsFrom: the playbook is checked against an empty inventory', async () => {
  const { unit, dir } = await inventoryIn(
    { 'site.yml': '- hosts: web\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n' },
    { inventory: null, hostsFrom: { fromOutput: 'machines.hosts' } },
  );
  assert.deepEqual(await validateInventory(unit, dir, context), []);
  const broken = await inventoryIn({ 'site.yml': '- hosts: web\n  tasks:\n    - name: typo\n      no_such_module: {a: 1}\n' }, { inventory: null, hostsFrom: { fromOutput: 'machines.hosts' } });
  const problems = await validateInventory(broken.unit, broken.dir, context);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.file, 'inventories/web/site.yml');
});
