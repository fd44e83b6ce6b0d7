import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { UnitDefinition } from '../../engine/provider-kit.ts';
import { silentLogger, testConfig } from '../../testkit/providers.ts';
import type { InventorySpec } from './manifest.ts';
import { listInventory, runContext } from './cli.ts';
import { generatedInventory, knownHostsLines, parseHostsFrom } from './hosts-from.ts';
import { parseKnownHosts, verifyHostKey } from './known-hosts.ts';
import { inventorySpec, inventoryUnit } from '../../testkit/ansible-units.ts';

// Real keys (providers/ansible/fixtures/known_hosts.plain).
const KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBZdbG1BjDH9h0LZgXqanXAWXKAA+WbEH+NTOi/B5Hhf';
const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKdagJ+JVjLxpu9wchrkly39mBZAwaL5khRCPDOuz9EP';

const scratch = await mkdtemp(join(tmpdir(), 'plumbline-hosts-from-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('a list of hosts: connection fields, groups, vars and host keys (comments dropped)', () => {
  const hosts = parseHostsFrom(
    [
      { name: 'web-1', address: '10.0.0.5', port: 2222, user: 'deploy', groups: ['web', 'web'], vars: { zone: 'a', limits: { cpu: 2 } }, hostKey: `${KEY_A} web-1` },
      { name: 'web-2', address: 'web-2.internal', port: null, user: null, groups: null, vars: null, hostKey: null },
    ],
    'web',
    'machines.hosts',
  );
  assert.deepEqual(hosts, [
    { name: 'web-1', address: '10.0.0.5', port: 2222, user: 'deploy', groups: ['web'], vars: { zone: 'a', limits: { cpu: 2 } }, hostKeys: [KEY_A] },
    { name: 'web-2', address: 'web-2.internal', port: null, user: null, groups: [], vars: {}, hostKeys: [] },
  ]);
  assert.deepEqual(JSON.parse(generatedInventory(hosts)), {
    all: {
      hosts: {
        'web-1': { zone: 'a', limits: { cpu: 2 }, ansible_host: '10.0.0.5', ansible_port: 2222, ansible_user: 'deploy' },
        'web-2': { ansible_host: 'web-2.internal' },
      },
      children: { web: { hosts: { 'web-1': null } } },
    },
  });
  // Each key is bound to the address and port the upstream declared.
  assert.deepEqual(knownHostsLines(hosts, null), [`[10.0.0.5]:2222 ${KEY_A}`]);
});

test('a mapping of name to host; ports as strings (Terraform map(string)); several keys; the default port', () => {
  const hosts = parseHostsFrom({ 'db-1': { address: '10.0.1.7', port: '22', hostKey: [KEY_A, KEY_B] }, 'db-2': { name: 'db-2', address: '10.0.1.8', hostKey: KEY_B } }, 'db', 'machines.db');
  assert.deepEqual(
    hosts.map((h) => [h.name, h.port]),
    [
      ['db-1', 22],
      ['db-2', null],
    ],
  );
  assert.deepEqual(knownHostsLines(hosts, 2200), [`10.0.1.7 ${KEY_A}`, `10.0.1.7 ${KEY_B}`, `[10.0.1.8]:2200 ${KEY_B}`]);
  assert.deepEqual(parseHostsFrom([], 'db', 'machines.db'), []);
});

test('a bad output stops the run naming the inventory, the output and each bad entry', () => {
  const bad = [
    { name: 'ok-1', address: '10.0.0.1' },
    { name: 'web-2', address: '10.0.0.2', port: 70000 },
    { name: 'web-3' },
    { name: 'web-4', address: '10.0.0.4', hostKey: 'ssh-ed25519 not-a-key' },
    { name: 'web-5', adress: '10.0.0.5' },
    { name: 'ok-1', address: '10.0.0.6' },
    { name: 'web-7', address: '10.0.0.7', vars: { ansible_host: '10.9.9.9', 'bad-name': 1 }, groups: ['all', 'my-group'] },
    { address: '10.0.0.8' },
    'web-9',
  ];
  assert.throws(
    () => parseHostsFrom(bad, 'web', 'machines.hosts'),
    (error: Error & { code?: string; retry?: string }) => {
      assert.equal(error.code, 'E_HOSTS_FROM');
      assert.equal(error.retry, 'stalled');
      const m = error.message;
      assert.match(m, /^web: hostsFrom machines\.hosts: /);
      assert.match(m, /entry \[1\] \(web-2\): port: must be a port number from 1 to 65535 \(got 70000\)/);
      assert.match(m, /entry \[2\] \(web-3\): address: required/);
      assert.match(m, /entry \[3\] \(web-4\): hostKey: must be a public key line such as "ssh-ed25519 AAAA\.\.\."/);
      assert.match(m, /entry \[4\] \(web-5\): .*unknown field adress \(allowed: name, address, port, user, groups, vars, hostKey\)/);
      assert.match(m, /entry \[5\] \(ok-1\): host ok-1 is listed twice \(also entry \[0\] \(ok-1\)\)/);
      assert.match(m, /entry \[6\] \(web-7\): .*groups\[0\]: all and ungrouped are implicit groups/);
      assert.match(m, /groups\[1\]: must be a group name/);
      assert.match(m, /vars\.ansible_host: set the host's address instead/);
      assert.match(m, /vars\.bad-name: invalid variable name/);
      assert.match(m, /entry \[7\]: name: required in a list of hosts/);
      assert.match(m, /entry \[8\]: must be a mapping \(got "web-9"\)/);
      assert.doesNotMatch(m, /entry \[0\]:/);
      return true;
    },
  );
  assert.throws(() => parseHostsFrom('web-1,web-2', 'web', 'machines.hosts'), /web: hostsFrom machines\.hosts: must be a list of hosts or a mapping of host name to host \(got "web-1,web-2"\)/);
  assert.throws(() => parseHostsFrom({ 'web 1': { address: '10.0.0.1' } }, 'web', 'machines.hosts'), /entry \["web 1"\]: the key must be a host name/);
  assert.throws(() => parseHostsFrom({ 'web-1': { name: 'web-2', address: '10.0.0.1' } }, 'web', 'machines.hosts'), /name "web-2" differs from its key/);
  // A key whose type does not match its blob is not a key.
  assert.throws(() => parseHostsFrom([{ name: 'a', address: 'b', hostKey: KEY_A.replace('ssh-ed25519', 'ssh-rsa') }], 'web', 'machines.hosts'), /hostKey: must be a public key line/);
});

const spec = (over: Partial<InventorySpec> = {}): InventorySpec => inventorySpec('inventories/web', { hostsFrom: { fromOutput: 'machines.hosts' }, ...over });
const unit = (s: InventorySpec): UnitDefinition => inventoryUnit('inventories/web', s, { dependsOn: ['machines'] });

async function context(name: string, s: InventorySpec, files: Record<string, string>, inventoryHosts: unknown) {
  const root = join(scratch, name);
  const tree = join(root, 'tree');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(tree, path, '..'), { recursive: true });
    await writeFile(join(tree, path), content);
  }
  await mkdir(join(tree, 'inventories/web'), { recursive: true });
  const config = testConfig({ source: { url: root }, stateDir: join(root, 'state') });
  return runContext({
    unit: unit(s),
    workdir: join(tree, 'inventories/web'),
    runDir: join(root, 'run'),
    artifactsDir: join(root, 'run', 'artifacts'),
    config,
    vars: {},
    inventoryHosts,
    log: silentLogger,
    signal: new AbortController().signal,
  });
}

const upstream = [
  { name: 'web-1', address: '127.0.0.40', port: 2222, groups: ['web'], vars: { zone: 'a' }, hostKey: KEY_A },
  { name: 'web-2', address: '127.0.0.41', port: 2222, groups: ['web'], vars: { zone: 'b' } },
];

test('merged with the static inventory: -i static -i generated, the upstream wins for a host both define', async () => {
  const ctx = await context(
    'merged',
    spec(),
    {
      'inventories/web/hosts.yml': 'all:\n  vars:\n    ansible_python_interpreter: /usr/bin/python3\n  children:\n    web:\n      hosts:\n        web-2:\n          ansible_host: 192.0.2.1\n          rack: r7\n        static-1:\n          ansible_host: 127.0.0.49\n',
      'inventories/web/known_hosts': `[127.0.0.49]:22 ${KEY_B}\n`,
    },
    upstream,
  );
  assert.equal(ctx.inventoryLabel, 'inventories/web/hosts.yml + hostsFrom machines.hosts');
  assert.equal(ctx.inventoryPaths.length, 2);
  assert.equal(ctx.inventoryPaths[1], join(scratch, 'merged', 'run', 'artifacts', 'hosts-from.yml'));
  assert.equal((await stat(ctx.inventoryPaths[1]!)).mode & 0o777, 0o600);
  const listed = await listInventory(ctx);
  assert.deepEqual(listed.hosts, ['static-1', 'web-1', 'web-2']);
  assert.equal(listed.hostvars['web-2']!.ansible_host, '127.0.0.41');
  assert.equal(listed.hostvars['web-2']!.rack, 'r7');
  assert.equal(listed.hostvars['web-2']!.zone, 'b');
  assert.equal(listed.hostvars['web-1']!.ansible_python_interpreter, '/usr/bin/python3');

  // known_hosts of the run: the inventory's own entries, then the upstream keys.
  assert.equal(ctx.knownHostsLabel, 'inventories/web/known_hosts + host keys from machines.hosts');
  const known = parseKnownHosts(await readFile(ctx.knownHostsFile, 'utf8'));
  const blob = (line: string) => Buffer.from(line.split(' ')[1]!, 'base64');
  assert.equal(verifyHostKey(known, '[127.0.0.40]:2222', blob(KEY_A)).status, 'ok');
  assert.equal(verifyHostKey(known, '[127.0.0.49]:22', blob(KEY_B)).status, 'ok');
  // web-2 has no key anywhere: still refused, as without hostsFrom.
  assert.equal(verifyHostKey(known, '[127.0.0.41]:2222', blob(KEY_B)).status, 'unknown');
});

test('without a static inventory or known_hosts: the upstream hosts and keys alone', async () => {
  const ctx = await context('alone', spec({ inventory: null }), {}, upstream);
  assert.equal(ctx.inventoryLabel, 'hostsFrom machines.hosts');
  assert.deepEqual((await listInventory(ctx)).hosts, ['web-1', 'web-2']);
  assert.equal(ctx.knownHostsLabel, 'host keys from machines.hosts');
  assert.equal((await readFile(ctx.knownHostsFile, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).length, 1);

  // No key from anywhere: refused before anything connects.
  await assert.rejects(context('nokeys', spec({ inventory: null }), {}, [{ name: 'web-1', address: '127.0.0.40' }]), { code: 'E_KNOWN_HOSTS_MISSING' });
  // A known_hosts the manifest names must exist, upstream keys or not.
  const named = spec({ inventory: null, ssh: { user: null, privateKeyFile: null, knownHostsFile: 'inventories/web/keys', port: null } });
  await assert.rejects(context('named', named, {}, upstream), /inventories\/web\/keys of inventory web does not exist/);
  // An empty output is an inventory without hosts.
  const empty = await context('empty', spec({ inventory: null }), { 'inventories/web/known_hosts': '' }, []);
  assert.deepEqual((await listInventory(empty)).hosts, []);
});

test('a bad upstream value stops the run before any inventory is written', async () => {
  await assert.rejects(context('bad', spec(), { 'inventories/web/hosts.yml': 'all: {}\n' }, [{ name: 'web-1' }]), {
    code: 'E_HOSTS_FROM',
    message: /web: hostsFrom machines\.hosts: entry \[0\] \(web-1\): address: required/,
  });
});
