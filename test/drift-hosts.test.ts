import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { waitFor } from '../testkit/wait.ts';
import { disposeAll } from '../testkit/teardown.ts';

// Real sshd on 127.0.0.50-52, real ansible-playbook, the real daemon: drift on
// hosts, first reported, then remediated on the drifted host only.
let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;

const PLAY = `- name: web servers
  hosts: web
  gather_facts: false
  tasks:
    - name: motd
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/motd"
        content: "Welcome to {{ inventory_hostname }}\\n"
`;

const manifest = (action: 'report' | 'remediate') => `playbook: site.yml\napproval: auto\ndrift:\n  interval: 3s\n  action: ${action}\n`;

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.50' });
  repo = new TestRepo();
  repo.commit(hosts.inventoryFolder('inventories/web', { manifest: manifest('report'), playbook: PLAY }));
  daemon = await TestDaemon.start({ sourceUrl: repo.url, extraConfig: hosts.ansibleConfig() });
  await daemon.waitForUnit('web', 'InSync', { timeoutMs: 240_000 });
});

after(() =>
  disposeAll(
    () => daemon?.dispose(),
    () => repo?.dispose(),
    () => hosts?.dispose(),
  ),
);

test('a file changed out of band on one host is reported Drifted with its diff, and left alone', async () => {
  const [, second] = hosts.hosts;
  writeFileSync(join(second!.root, 'motd'), 'defaced\n');
  const drifted = await daemon.waitForUnit('web', 'Drifted', { timeoutMs: 240_000 });
  assert.equal(drifted.reason, 'DriftDetected');
  assert.match(drifted.message, new RegExp(`on ${second!.name}:`));
  assert.deepEqual(
    drifted.hosts?.filter((h) => h.state !== 'ok').map((h) => h.name),
    [second!.name],
  );
  const plan = (await daemon.plans('web')).find((p) => p.id === drifted.planId)!;
  assert.equal(plan.purpose, 'drift');
  assert.deepEqual(plan.targets, [second!.name]);
  const show = daemon.cli(['show', plan.id]);
  assert.match(show.stdout, /motd/);
  assert.match(show.stdout, /-defaced/);
  assert.match(show.stdout, new RegExp(`\\+Welcome to ${second!.name}`));
  assert.equal(hosts.readOnHost(second!.name, 'motd'), 'defaced\n', 'report changes nothing');
  const status = daemon.cli(['status']);
  assert.match(status.stdout, /web\s+ansible\s+Drifted/);
  assert.match(status.stdout, new RegExp(`${second!.name}\\s+changed`), status.stdout);
});

test('remediate restores the file on the drifted host only, proves convergence, and the next check is clean', async () => {
  const [first, second] = hosts.hosts;
  const untouched = statSync(join(first!.root, 'motd')).mtimeMs;
  repo.commit({ 'inventories/web/inventory.yaml': manifest('remediate') }, 'remediate drift');
  await daemon.sync();
  // The new commit plans and applies (which already converges the host); then
  // deface again so the remediation path itself is exercised.
  await daemon.waitForUnit('web', 'InSync', { revision: repo.head(), timeoutMs: 240_000 });
  writeFileSync(join(second!.root, 'motd'), 'defaced again\n');
  const remediated = await waitFor(
    async () => (await daemon.history('web')).find((e) => e.type === 'remediated' && e.revision === repo.head()),
    { what: 'a remediation of web', timeoutMs: 240_000 },
  );
  assert.equal(hosts.readOnHost(second!.name, 'motd'), `Welcome to ${second!.name}\n`);
  const plan = (await daemon.plans('web')).find((p) => p.id === remediated.planId)!;
  assert.deepEqual(plan.targets, [second!.name], 'the apply was limited to the drifted host');
  assert.equal(statSync(join(first!.root, 'motd')).mtimeMs, untouched, 'the other hosts were not touched');
  const after = Date.parse(remediated.finishedAt!);
  await waitFor(
    async () => {
      const unit = await daemon.unit('web');
      return unit?.phase === 'InSync' && unit.lastDriftCheckAt && Date.parse(unit.lastDriftCheckAt) > after ? unit : undefined;
    },
    { what: 'a clean drift check after the remediation', timeoutMs: 240_000 },
  );
});
