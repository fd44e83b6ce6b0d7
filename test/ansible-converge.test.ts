import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { disposeAll } from '../testkit/teardown.ts';

// Real sshd on 127.0.0.10-12, real ansible-playbook, the real daemon. One
// repository and daemon for the file: each test builds on the previous commit.
let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;
let first: string;

const play = (extraTasks = '', comment = '') => `# the web servers${comment}
- name: web servers
  hosts: web
  gather_facts: false
  tasks:
    - name: motd
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/motd"
        content: "Welcome to {{ inventory_hostname }}\\n"
    - name: site settings
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/site.conf"
        content: "listen={{ listen_port }}\\n"
${extraTasks}`;

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.10' });
  repo = new TestRepo();
  first = repo.commit(
    {
      'inventories/web/inventory.yaml': 'playbook: site.yml\napproval: auto\nvars:\n  listen_port: 8080\n',
      'inventories/web/hosts.yml': hosts.inventoryYaml(),
      'inventories/web/known_hosts': hosts.knownHosts(),
      'inventories/web/site.yml': play(),
    },
    'web inventory',
  );
  daemon = await TestDaemon.start({ sourceUrl: repo.url, extraConfig: hosts.ansibleConfig() });
});

after(() =>
  disposeAll(
    () => daemon?.dispose(),
    () => repo?.dispose(),
    () => hosts?.dispose(),
  ),
);


test('the first converge changes every host, and a second check proves it converged', async () => {
  const unit = await daemon.waitForUnit('web', 'InSync', { revision: first, timeoutMs: 180_000 });
  assert.equal(unit.kind, 'ansible');
  assert.equal(unit.reason, 'Converged', unit.message);
  assert.equal(unit.lastAppliedRevision, first);
  for (const h of hosts.hosts) {
    assert.equal(hosts.readOnHost(h.name, 'motd'), `Welcome to ${h.name}\n`);
    assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=8080\n');
  }
  assert.deepEqual(
    unit.hosts?.map((h) => [h.name, h.state]),
    hosts.hosts.map((h) => [h.name, 'changed']),
  );

  const plan = await daemon.planAt('web', first);
  assert.equal(plan.status, 'Applied');
  // 2 tasks × 3 hosts change; nothing removed.
  assert.deepEqual(plan.summary, { add: 0, change: 6, destroy: 0, replace: 0 });
  assert.equal(plan.destructive, false);
  assert.deepEqual(plan.hosts?.map((h) => h.state), ['changed', 'changed', 'changed']);

  const show = daemon.cli(['show', plan.id]);
  assert.equal(show.code, 0, show.stderr);
  for (const h of hosts.hosts) assert.match(show.stdout, new RegExp(`== ${h.name}: changed`));
  assert.match(show.stdout, /\+Welcome to host-1/);
  // Ansible reached every host with StrictHostKeyChecking=yes against the committed known_hosts.
  assert.match(show.stdout, /Host keys checked against inventories\/web\/known_hosts/);
  assert.match(show.stdout, /\(3 hosts targeted\)/);
});

test('a new commit that does not change what the play does changes nothing', async () => {
  const appliedBefore = (await daemon.history('web')).filter((e) => e.type === 'applied').length;
  const second = repo.commit({ 'inventories/web/site.yml': play('', ' (reviewed)') }, 'comment only');
  await daemon.sync();
  const unit = await daemon.waitForUnit('web', 'InSync', { revision: second });
  assert.equal(unit.reason, 'NoChanges');
  const plan = await daemon.planAt('web', second);
  assert.equal(plan.status, 'NoChanges');
  assert.equal(plan.hasChanges, false);
  assert.deepEqual(plan.summary, { add: 0, change: 0, destroy: 0, replace: 0 });
  assert.deepEqual(plan.hosts?.map((h) => h.state), ['ok', 'ok', 'ok']);
  assert.equal((await daemon.history('web')).filter((e) => e.type === 'applied').length, appliedBefore);
});

test('a file changed out of band on one host: the next plan names exactly that host and task, with the diff', async () => {
  writeFileSync(join(hosts.host('host-2').root, 'motd'), 'defaced\n');
  const third = repo.commit({ 'inventories/web/site.yml': play('', ' (reviewed twice)') }, 'another comment');
  await daemon.sync();
  const plan = await daemon.planAt('web', third);
  assert.deepEqual(
    plan.hosts?.map((h) => [h.name, h.state]),
    [
      ['host-1', 'ok'],
      ['host-2', 'changed'],
      ['host-3', 'ok'],
    ],
  );
  assert.deepEqual(plan.summary, { add: 0, change: 1, destroy: 0, replace: 0 });
  const detail = await daemon.api<{ rendered: string; document: { hosts: Array<{ name: string; tasks: Array<{ task: string; diff?: string }> }> } }>(`/api/v1/plans/${plan.id}`);
  const changing = detail.body.document.hosts.flatMap((h) => h.tasks.map((t) => `${h.name} => ${t.task}`));
  assert.deepEqual(changing, ['host-2 => motd']);
  const diff = detail.body.document.hosts.find((h) => h.name === 'host-2')!.tasks[0]!.diff ?? '';
  assert.match(diff, /^-defaced$/m);
  assert.match(diff, /^\+Welcome to host-2$/m);
  assert.match(detail.body.rendered, /== host-2: changed[\s\S]*~ change: motd[\s\S]*-defaced/);

  // approval: auto puts it back.
  const unit = await daemon.waitForUnit('web', 'InSync', { revision: third });
  assert.equal(unit.reason, 'Converged');
  assert.equal(hosts.readOnHost('host-2', 'motd'), 'Welcome to host-2\n');
});

test('a task that changes on every run is reported as NotIdempotent, host => task', async () => {
  const stamp = `    - name: stamp the deploy time
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/deployed-at"
        content: "{{ now().isoformat() }}\\n"
`;
  const fourth = repo.commit({ 'inventories/web/site.yml': play(stamp) }, 'stamp');
  await daemon.sync();
  const unit = await daemon.waitForUnit('web', 'InSync', { revision: fourth });
  assert.equal(unit.reason, 'NotIdempotent', unit.message);
  for (const h of hosts.hosts) assert.match(unit.message, new RegExp(`${h.name} => stamp the deploy time`));
  assert.doesNotMatch(unit.message, /=> motd/);
  for (const h of unit.hosts ?? []) assert.match(h.message ?? '', /not idempotent: stamp the deploy time/);
});
