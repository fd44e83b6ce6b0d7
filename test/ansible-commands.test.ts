import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PlanRecord, UnitStatus } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { waitFor } from '../testkit/wait.ts';
import { disposeAll } from '../testkit/teardown.ts';

// Real sshd on 127.0.0.63-65, real ansible-playbook, the real daemon. A
// playbook like most real ones: files, and command/shell/raw tasks check mode
// cannot predict. Under `remediate`, drift checks every two seconds must stay
// clean after the first converge, never re-running the playbook.
let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;
let first: string;

const SITE = `- name: web servers
  hosts: web
  gather_facts: false
  vars:
    extra_pages: []
  tasks:
    - name: site settings
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/site.conf"
        content: "listen=8080\\n"
    - name: extra pages
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/{{ item }}.html"
        content: "{{ item }}\\n"
      loop: "{{ extra_pages }}"
    - name: reload the web server
      ansible.builtin.command: /bin/true
    - name: warm the cache
      ansible.builtin.shell: "cat {{ plumbline_root }}/site.conf > /dev/null"
    - name: ping the load balancer
      ansible.builtin.raw: /bin/true
`;

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.63' });
  repo = new TestRepo();
  first = repo.commit(
    {
      'inventories/web/inventory.yaml': 'playbook: site.yml\napproval: auto\ndrift:\n  interval: 2s\n  action: remediate\n',
      'inventories/web/hosts.yml': hosts.inventoryYaml(),
      'inventories/web/known_hosts': hosts.knownHosts(),
      'inventories/web/site.yml': SITE,
    },
    'web inventory with command tasks',
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

/** Wait for the next drift check of web after `since` (an ISO time). */
async function driftCheckAfter(since: string): Promise<UnitStatus> {
  return waitFor(
    async () => {
      const unit = await daemon.unit('web');
      return unit?.lastDriftCheckAt && unit.lastDriftCheckAt > since ? unit : undefined;
    },
    { what: `a drift check of web after ${since}`, timeoutMs: 120_000 },
  );
}

test('the first converge applies; commands are listed apart, never counted as changes', async () => {
  const unit = await daemon.waitForUnit('web', 'InSync', { revision: first, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=8080\n');
  const plan = (await daemon.plans('web')).find((p) => p.revision === first) as PlanRecord;
  // 1 changing task × 3 hosts; the three commands and the empty loop are not changes.
  assert.deepEqual(plan.summary, { add: 0, change: 3, destroy: 0, replace: 0 });
  const detail = await daemon.api<{ rendered: string }>(`/api/v1/plans/${plan.id}`);
  assert.match(detail.body.rendered, /Cannot be predicted in check mode; they run when the change is applied:/);
  assert.match(detail.body.rendered, /\? reload the web server \[ansible\.builtin\.command\] at inventories\/web\/site\.yml:16\n {6}on: host-1, host-2, host-3/);
  assert.match(detail.body.rendered, /\? ping the load balancer \[ansible\.builtin\.raw\]/);
  assert.doesNotMatch(detail.body.rendered, /extra pages/, 'an empty loop is skipped, not unknown');
});

test('drift checks under remediate stay clean for several intervals: no drift, no remediation, no re-run', async () => {
  const applied = (await daemon.history('web')).filter((e) => e.type === 'applied').length;
  let since = (await daemon.unit('web'))!.lastDriftCheckAt ?? new Date(0).toISOString();
  for (let i = 0; i < 3; i += 1) {
    const unit = await driftCheckAfter(since);
    assert.equal(unit.phase, 'InSync', `check ${i + 1}: ${unit.reason}: ${unit.message}`);
    since = unit.lastDriftCheckAt!;
  }
  // On demand too, as `plumbline drift web` asks.
  // With checks every two seconds one may be running already: ask until a check of our own is started.
  await waitFor(() => daemon.cli(['drift', 'web']).code === 0, { what: 'plumbline drift web to start a check', timeoutMs: 60_000 });
  const unit = await driftCheckAfter(since);
  assert.equal(unit.phase, 'InSync');
  const history = await daemon.history('web');
  assert.deepEqual(history.filter((e) => e.type === 'drift-detected' || e.type === 'remediated'), []);
  assert.equal(history.filter((e) => e.type === 'applied').length, applied, 'the playbook was not run again');
  assert.ok(!(await daemon.plans('web')).some((p) => p.purpose === 'drift'), 'no drift plan was made');
});
