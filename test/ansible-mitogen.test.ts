import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { webSitePlay } from '../testkit/ansible-units.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { repoRoot } from '../testkit/files.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { freePort } from '../testkit/ports.ts';
import { hostsInventoryYaml, TestHosts } from '../testkit/sshd.ts';
import { disposeAll } from '../testkit/teardown.ts';

// `ansible.strategy: auto` (mitogen, installed here) with real sshd hosts on 127.0.0.160-161, the real
// ansible-playbook with Debian's ansible-mitogen, the real daemon (sandboxed
// when bubblewrap works). Each test builds on the previous commit.
let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;
const scratch: string[] = [];

const manifest = (port: number, approval = 'manual') => `playbook: site.yml\napproval: ${approval}\nvars:\n  listen_port: ${port}\n`;
/**
 * The last tasks of a play: record on each host, in `file`, the process that
 * ran them: under mitogen, a Python of mitogen's own that stays up for the
 * run, named `mitogen:<user>@<controller>`.
 */
const recordRunner = (file: string) => `    - name: runner
      ansible.builtin.shell: ps -o args= -p "$PPID"
      register: runner
      changed_when: false
      check_mode: false
    - name: record the runner
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/${file}"
        content: "{{ 'mitogen' if 'mitogen:' in runner.stdout else runner.stdout }}\\n"
`;
const site = webSitePlay(recordRunner('runner'));

/** Commit an auto-applied inventory `name` that trusts the hosts' current keys; `files` are its own (hosts.yml, site.yml...). */
async function commitInventory(name: string, files: Record<string, string>, message: string): Promise<string> {
  const own = Object.fromEntries(Object.entries(files).map(([file, text]) => [`inventories/${name}/${file}`, text]));
  return repo.commit({ [`inventories/${name}/inventory.yaml`]: 'playbook: site.yml\napproval: auto\n', [`inventories/${name}/known_hosts`]: await hosts.currentKnownHosts(), ...own }, message);
}

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.160', count: 2 });
  repo = new TestRepo();
  // `auto` takes mitogen, installed here.
  daemon = await TestDaemon.start({ sourceUrl: repo.url, extraConfig: hosts.ansibleConfig(['strategy: auto']) });
});

after(() =>
  disposeAll(
    () => daemon?.dispose(),
    () => repo?.dispose(),
    () => hosts?.dispose(),
    () => {
      for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    },
  ),
);

test('check mode under mitogen reports the changes and changes nothing; the apply converges the hosts', async () => {
  const revision = repo.commit(
    hosts.inventoryFolder('inventories/web', { manifest: manifest(8080), playbook: site }),
    'web inventory',
  );
  await daemon.sync();
  const waiting = await daemon.waitForUnit('web', 'AwaitingApproval', { revision, timeoutMs: 240_000 });
  const plan = (await daemon.plans('web')).find((p) => p.id === waiting.planId)!;
  // 2 files × 2 hosts would be created; the check changed none of them.
  assert.deepEqual(plan.summary, { add: 0, change: 4, destroy: 0, replace: 0 });
  assert.deepEqual(plan.hosts?.map((h) => [h.name, h.state]), [
    ['host-1', 'changed'],
    ['host-2', 'changed'],
  ]);
  for (const h of hosts.hosts) assert.equal(existsSync(join(h.root, 'site.conf')), false, `${h.name} untouched by the check`);

  const approve = daemon.cli(['approve', plan.id]);
  assert.equal(approve.code, 0, approve.stderr);
  const unit = await daemon.waitForUnit('web', 'InSync', { revision, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) {
    assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=8080\n');
    assert.equal(hosts.readOnHost(h.name, 'runner'), 'mitogen\n', `${h.name}: the tasks ran in mitogen's interpreter`);
  }
  assert.match(daemon.logs, /ansible\.strategy auto: plays run with the mitogen strategy/);
});

test('a change shows in the check with its diff, and only on the hosts it concerns', async () => {
  const revision = repo.commit({ 'inventories/web/inventory.yaml': manifest(9090) }, 'listen on 9090');
  await daemon.sync();
  const waiting = await daemon.waitForUnit('web', 'AwaitingApproval', { revision, timeoutMs: 240_000 });
  const plan = (await daemon.plans('web')).find((p) => p.id === waiting.planId)!;
  assert.deepEqual(plan.summary, { add: 0, change: 2, destroy: 0, replace: 0 });
  assert.match(plan.hosts![0]!.message ?? '', /changes: site settings/);
  const show = daemon.cli(['show', plan.id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /-listen=8080/);
  assert.match(show.stdout, /\+listen=9090/);
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=8080\n');

  assert.equal(daemon.cli(['approve', plan.id]).code, 0);
  const unit = await daemon.waitForUnit('web', 'InSync', { revision, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=9090\n');
});

test('host keys are still verified: a host whose key changed is refused and nothing is applied', async () => {
  await hosts.host('host-2').rotateHostKey();
  const revision = repo.commit({ 'inventories/web/inventory.yaml': manifest(9191, 'auto') }, 'listen on 9191');
  await daemon.sync();
  const plan = await daemon.planAt('web', revision);
  const second = plan.hosts?.find((h) => h.name === 'host-2');
  assert.equal(second?.state, 'unreachable', JSON.stringify(plan.hosts));
  assert.match(second?.message ?? '', /host key verification failed/i);
  assert.equal(plan.hosts?.find((h) => h.name === 'host-1')?.state, 'changed');
  const unit = await daemon.waitForUnit('web', 'Failed', { revision });
  assert.match(unit.message, /host-2/);
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=9090\n');
});

test('under mitogen, ssh itself refuses a host whose key is unknown or changed: nothing runs there', async () => {
  const [first, second] = hosts.hosts as [(typeof hosts.hosts)[0], (typeof hosts.hosts)[0]];
  // host-1 has no entry at all; host-2's entry carries host-1's key.
  const knownHosts = `${second.knownHostsName} ${await first.publicKey()}\n`;
  const entries = hosts.hosts
    // The check runs first, under mitogen: ssh checks the key before any login.
    .map((h) => `        ${h.name}:\n          ansible_host: ${h.address}\n          ansible_port: ${h.port}\n          plumbline_root: ${h.root}`)
    .join('\n');
  const play = `- hosts: keys\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy:\n        dest: "{{ plumbline_root }}/keys.conf"\n        content: "reached\\n"\n`;
  const revision = repo.commit(
    {
      'inventories/keys/inventory.yaml': 'playbook: site.yml\napproval: auto\n',
      'inventories/keys/hosts.yml': `all:\n  vars:\n    ansible_python_interpreter: /usr/bin/python3\n  children:\n    keys:\n      hosts:\n${entries}\n`,
      'inventories/keys/known_hosts': knownHosts,
      'inventories/keys/site.yml': play,
    },
    'keys inventory with unknown and wrong host keys',
  );
  await daemon.sync();
  const unit = await daemon.waitForUnit('keys', 'Failed', { revision, timeoutMs: 240_000 });
  const plan = await daemon.planAt('keys', revision);
  for (const h of hosts.hosts) {
    const found = plan.hosts?.find((x) => x.name === h.name);
    assert.equal(found?.state, 'unreachable', JSON.stringify(plan.hosts));
    assert.match(found?.message ?? '', /host key/i, JSON.stringify(found));
    assert.equal(existsSync(join(h.root, 'keys.conf')), false, `${h.name} was not reached`);
  }
  assert.match(unit.message, /host-1/);
});

test('an inventory that templates its addresses and ports runs with Ansible\'s own strategy, which fills them in, and converges', async () => {
  // Mitogen 0.3.3 would pass `{{ ... }}` to ssh as the host name and port, and the hosts would be unreachable.
  const templated = hosts.hosts
    .map((h) => `        ${h.name}:\n          address: ${h.address}\n          ansible_host: "{{ address }}"\n          ansible_port: "{{ ${h.port} }}"\n          plumbline_root: ${h.root}`)
    .join('\n');
  const play = site.replace('hosts: web', 'hosts: addressed').replaceAll('site.conf', 'addressed.conf').replaceAll('/runner', '/addressed-runner');
  const revision = await commitInventory(
    'addressed',
    {
      'inventory.yaml': 'playbook: site.yml\napproval: auto\nvars:\n  listen_port: 7070\n',
      'hosts.yml': `all:\n  vars:\n    ansible_python_interpreter: /usr/bin/python3\n  children:\n    addressed:\n      hosts:\n${templated}\n`,
      'site.yml': play,
    },
    'inventory with templated addresses',
  );
  await daemon.sync();
  const unit = await daemon.waitForUnit('addressed', 'InSync', { revision, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) {
    assert.equal(hosts.readOnHost(h.name, 'addressed.conf'), 'listen=7070\n');
    assert.notEqual(hosts.readOnHost(h.name, 'addressed-runner'), 'mitogen\n', `${h.name}: Ansible's own strategy ran the tasks`);
  }
  assert.match(daemon.logs, /"reason":"templated-connection","name":"ansible_host","where":"inventories\/addressed\/hosts\.yml:\d+".*mitogen cannot run this inventory/);
});

test('a play that speaks to hosts without Python through raw runs with Ansible\'s own strategy, which needs none', async () => {
  // Network gear has no Python; mitogen starts its own Python on every host, and would find the hosts unreachable.
  const entries = hosts.hosts
    .map((h) => `        ${h.name}:\n          ansible_host: ${h.address}\n          ansible_port: ${h.port}\n          ansible_python_interpreter: /nonexistent/python3\n          plumbline_root: ${h.root}`)
    .join('\n');
  const play = `- hosts: devices
  gather_facts: false
  tasks:
    - name: show version
      ansible.builtin.raw: echo reached > {{ plumbline_root }}/raw-reached
      changed_when: false
      check_mode: false
`;
  const revision = await commitInventory(
    'devices',
    {
      'hosts.yml': `all:\n  children:\n    devices:\n      hosts:\n${entries}\n`,
      'site.yml': play,
    },
    'devices spoken to with raw',
  );
  await daemon.sync();
  await daemon.waitForUnit('devices', 'InSync', { revision, timeoutMs: 240_000 });
  const plan = await daemon.planAt('devices', revision);
  assert.deepEqual(plan.hosts?.map((h) => h.state === 'unreachable'), [false, false], JSON.stringify(plan.hosts));
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'raw-reached'), 'reached\n');
  assert.match(daemon.logs, /"reason":"raw-module","name":"ansible.builtin.raw","where":"inventories\/devices\/site\.yml:5".*mitogen cannot run this inventory/);
});

test("under mitogen, the strategy the repository's ansible.cfg chose is kept: free lets a host run ahead of a slow one", async () => {
  // host-1 sleeps in the second task; under free (mitogen_free) host-2 starts the third meanwhile, under linear it waits.
  const play = `- hosts: ordered
  gather_facts: false
  tasks:
    - name: settings
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/ordered.conf"
        content: "v1\\n"
    - name: slow on host-1
      ansible.builtin.shell: sleep 4 && date +%s.%N > "{{ plumbline_root }}/slow-done"
      when: inventory_hostname == 'host-1'
      changed_when: false
    - name: next
      ansible.builtin.shell: date +%s.%N > "{{ plumbline_root }}/next-started"
      changed_when: false
${recordRunner('ordered-runner')}`;
  const revision = await commitInventory(
    'ordered',
    {
      'ansible.cfg': '[defaults]\nstrategy = free\n',
      'hosts.yml': hostsInventoryYaml(hosts.hosts, 'ordered'),
      'site.yml': play,
    },
    'inventory whose ansible.cfg chooses the free strategy',
  );
  await daemon.sync();
  const unit = await daemon.waitForUnit('ordered', 'InSync', { revision, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'ordered-runner'), 'mitogen\n', `${h.name}: the tasks ran in mitogen's interpreter`);
  const slowDone = Number(hosts.readOnHost('host-1', 'slow-done'));
  const nextStarted = Number(hosts.readOnHost('host-2', 'next-started'));
  assert.ok(nextStarted < slowDone - 1, `host-2 ran ahead of host-1 (next started ${nextStarted}, slow done ${slowDone})`);
});

test('strategy: mitogen without mitogen in the Python that runs Ansible stops the daemon at start, saying how to fix it', async () => {
  // An Ansible whose Python does not see the system's packages, as a virtualenv without mitogen would be.
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-nomitogen-'));
  scratch.push(dir);
  mkdirSync(join(dir, 'bin'));
  const playbook = join(dir, 'bin', 'ansible-playbook');
  const real = readFileSync('/usr/bin/ansible-playbook', 'utf8');
  writeFileSync(playbook, `#!/usr/bin/python3 -S\n${real.slice(real.indexOf('\n') + 1)}`);
  chmodSync(playbook, 0o755);
  const config = join(dir, 'plumbline.yaml');
  const settings = ['strategy: mitogen', `playbookBinary: ${playbook}`];
  writeFileSync(config, [`source:\n  url: ${repo.url}`, `stateDir: ${join(dir, 'state')}`, `api:\n  listen: 127.0.0.1:${await freePort()}`, hosts.ansibleConfig(settings), ''].join('\n'));
  const started = spawnSync(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), 'daemon', '--config', config], { encoding: 'utf8', timeout: 120_000 });
  assert.notEqual(started.status, 0, 'the daemon refuses to start');
  assert.equal(started.signal, null, 'it stops by itself');
  const output = started.stdout + started.stderr;
  assert.match(output, /E_ANSIBLE_MITOGEN_MISSING/);
  assert.match(output, /has no ansible_mitogen module/);
  assert.match(output, /apt-get install ansible-mitogen/);
});
