import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run, type UnitDefinition } from '../../engine/provider-kit.ts';
import type { InventorySpec } from './manifest.ts';
import { baseEnv } from './cli.ts';
import { configCandidates, configInForce, parseIni, pathList, runConfigFile } from './config-file.ts';

const unit = { path: 'inventories/production' } as UnitDefinition;
const spec = (playbook: string) => ({ playbook }) as InventorySpec;

test('the ansible.cfg honoured: the inventory folder\'s, else the playbook folder\'s, else the repository root\'s', () => {
  assert.deepEqual(configCandidates(unit, spec('playbooks/site.yml')), ['inventories/production/ansible.cfg', 'playbooks/ansible.cfg', 'ansible.cfg']);
  assert.deepEqual(configCandidates(unit, spec('site.yml')), ['inventories/production/ansible.cfg', 'ansible.cfg']);
  assert.deepEqual(configCandidates(unit, spec('inventories/production/site.yml')), ['inventories/production/ansible.cfg', 'ansible.cfg']);

  const repo = mkdtempSync(join(tmpdir(), 'plumbline-cfg-'));
  try {
    assert.equal(configInForce(repo, unit, spec('playbooks/site.yml')), null);
    writeFileSync(join(repo, 'ansible.cfg'), '[defaults]\n');
    assert.equal(configInForce(repo, unit, spec('playbooks/site.yml')), 'ansible.cfg');
    mkdirSync(join(repo, 'playbooks'));
    writeFileSync(join(repo, 'playbooks/ansible.cfg'), '[defaults]\n');
    assert.equal(configInForce(repo, unit, spec('playbooks/site.yml')), 'playbooks/ansible.cfg');
    mkdirSync(join(repo, 'inventories/production'), { recursive: true });
    writeFileSync(join(repo, 'inventories/production/ansible.cfg'), '[defaults]\n');
    assert.equal(configInForce(repo, unit, spec('playbooks/site.yml')), 'inventories/production/ansible.cfg');
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('without an ansible.cfg in the repository, an empty one: never the control host\'s', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'plumbline-cfg-'));
  try {
    const config = await runConfigFile(repo, unit, spec('site.yml'), join(repo, '.run'));
    assert.equal(config.label, null);
    assert.ok(config.file.startsWith(join(repo, '.run')));
    assert.doesNotMatch(readFileSync(config.file, 'utf8'), /^\[/m);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});

test('ansible.cfg is read as configparser reads it', () => {
  const ini = parseIni(`# a comment
[defaults]
Roles_Path = roles:../shared/roles ; inline comment
inventory: hosts.ini
library =
    library
    ../shared/library
; another comment
[ssh_connection]
pipelining = True
`);
  assert.equal(ini.get('defaults')?.get('roles_path'), 'roles:../shared/roles');
  assert.equal(ini.get('defaults')?.get('inventory'), 'hosts.ini');
  assert.deepEqual(pathList(ini.get('defaults')?.get('library')), ['library', '../shared/library']);
  assert.deepEqual(pathList(ini.get('defaults')?.get('roles_path')), ['roles', '../shared/roles']);
  assert.equal(ini.get('ssh_connection')?.get('pipelining'), 'True');
});

test('what Plumbline enforces beats a committed ansible.cfg that turns host key checking off (Ansible\'s own view)', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'plumbline-cfg-'));
  try {
    writeFileSync(
      join(repo, 'ansible.cfg'),
      '[defaults]\nhost_key_checking = False\nstdout_callback = yaml\n[ssh_connection]\nhost_key_checking = False\nssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n',
    );
    const config = await runConfigFile(repo, unit, spec('site.yml'), join(repo, '.run'));
    assert.equal(config.label, 'ansible.cfg');
    const env = { ...baseEnv(join(repo, '.run'), config.file), ANSIBLE_SSH_ARGS: '-o StrictHostKeyChecking=yes', ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json' };
    const dump = await run('ansible-config', ['dump', '--only-changed', '-t', 'all'], { env, cwd: repo, timeoutMs: 60_000 });
    assert.match(dump.stdout, /^HOST_KEY_CHECKING\(env: ANSIBLE_HOST_KEY_CHECKING\) = True$/m);
    assert.match(dump.stdout, /^DEFAULT_STDOUT_CALLBACK\(env: ANSIBLE_STDOUT_CALLBACK\) = ansible\.posix\.json$/m);
    assert.match(dump.stdout, /^ssh_args\(env: ANSIBLE_SSH_ARGS\) = -o StrictHostKeyChecking=yes$/m);
    assert.match(dump.stdout, /^host_key_checking\(env: ANSIBLE_HOST_KEY_CHECKING\) = True$/m);
    assert.match(dump.stdout, /^CONFIG_FILE\(\) = .*\/ansible\.cfg$/m, 'the committed file is read');
    assert.doesNotMatch(dump.stdout, /\([^)]*ansible\.cfg\) = /, 'but none of its settings holds');
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
});
