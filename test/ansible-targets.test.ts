import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { disposeAll } from '../testkit/teardown.ts';

// Real sshd on 127.0.0.60-62 (the web group), real ansible-playbook, the real
// daemon. The inventory also has a db group whose host, 127.0.0.69, runs no
// sshd: a listener there only counts who knocks. A play for `hosts: web`
// must leave it alone.
const DB_ADDRESS = '127.0.0.69';
let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;
let db: Server;
let dbConnections = 0;

const site = (extraTasks = '') => `- name: web servers
  hosts: web
  gather_facts: false
  tasks:
    - name: motd
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/motd"
        content: "Welcome to {{ inventory_hostname }}\\n"
${extraTasks}`;

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.60' });
  const port = hosts.hosts[0]!.port;
  db = createServer((socket) => {
    dbConnections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => db.listen(port, DB_ADDRESS, resolve));
  const inventory = `${hosts.inventoryYaml('web')}    db:\n      hosts:\n        db-1:\n          ansible_host: ${DB_ADDRESS}\n          ansible_port: ${port}\n`;
  repo = new TestRepo();
  repo.commit(
    {
      'inventories/web/inventory.yaml': 'playbook: site.yml\napproval: auto\n',
      'inventories/web/hosts.yml': inventory,
      'inventories/web/known_hosts': hosts.knownHosts(),
      'inventories/web/site.yml': site(),
    },
    'web inventory, with a db group',
  );
  // Every apply checks its hosts again, however soon after its plan: the db host must not be among them.
  daemon = await TestDaemon.start({ sourceUrl: repo.url, extraConfig: hosts.ansibleConfig(['recheckHostsAfter: 0s']) });
});

after(() =>
  disposeAll(
    () => daemon?.dispose(),
    () => repo?.dispose(),
    () => hosts?.dispose(),
    () => new Promise((resolve) => db?.close(resolve)),
  ),
);


test('a play for hosts: web plans and applies the web hosts only; the db host is never contacted nor listed', async () => {
  const revision = repo.head();
  const unit = await daemon.waitForUnit('web', 'InSync', { revision, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  assert.deepEqual(
    unit.hosts?.map((h) => [h.name, h.state]),
    hosts.hosts.map((h) => [h.name, 'changed']),
  );
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'motd'), `Welcome to ${h.name}\n`);
  const plan = await daemon.planAt('web', revision);
  assert.deepEqual(plan.hosts?.map((h) => h.name), ['host-1', 'host-2', 'host-3']);
  const show = daemon.cli(['show', plan.id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /\(3 hosts targeted\)/);
  assert.doesNotMatch(show.stdout, /db-1/);
  assert.equal(dbConnections, 0, 'nothing connected to the db host');
});

test('a run_once assert that stops the play: every host says what happened, none is ok', async () => {
  const guard = `    - name: the release is set
      ansible.builtin.assert:
        that: release is defined
        fail_msg: set release in inventory.yaml
      run_once: true
    - name: release file
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/release"
        content: "{{ release }}\\n"
`;
  const revision = repo.commit({ 'inventories/web/site.yml': site(guard).replace('Welcome to', 'Hello from') }, 'guarded release');
  await daemon.sync();
  const plan = await daemon.planAt('web', revision);
  assert.deepEqual(plan.hosts?.map((h) => [h.name, h.state]), [
    ['host-1', 'failed'],
    ['host-2', 'failed'],
    ['host-3', 'failed'],
  ]);
  assert.match(plan.hosts![0]!.message ?? '', /the release is set: set release in inventory\.yaml/);
  for (const h of plan.hosts!.slice(1)) {
    assert.match(h.message ?? '', /did not run to the end: the play stopped when "the release is set" failed on host-1/);
  }
  const unit = await daemon.waitForUnit('web', 'Failed', { revision });
  assert.deepEqual(unit.hosts?.map((h) => h.state), ['failed', 'failed', 'failed']);
  assert.equal(dbConnections, 0, 'nothing connected to the db host');
});
