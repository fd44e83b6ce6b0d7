import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fingerprint } from '../providers/ansible/known-hosts.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { disposeAll } from '../testkit/teardown.ts';

// Real sshd on 127.0.0.70-72, real ansible-playbook, the real daemon, on a
// repository in Ansible's documented layout: site.yml, roles/, group_vars/
// and ansible.cfg at the root (roles_path naming roles/ and galaxy_roles/,
// where a requirements file would install roles), one folder per environment
// under inventories/. The ansible.cfg also carries what many committed ones
// do: host key checking switched off. Plumbline's settings must win.
let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;
let first: string;

const ANSIBLE_CFG = `[defaults]
roles_path = roles:galaxy_roles
host_key_checking = False
retry_files_enabled = True

[ssh_connection]
ssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null
`;

const indexTemplate = (footer: string) => `<h1>{{ site_title }}</h1>
<p>served by {{ inventory_hostname }}</p>
<footer>${footer}</footer>
`;

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.70' });
  repo = new TestRepo();
  first = repo.commit(
    {
      'ansible.cfg': ANSIBLE_CFG,
      'site.yml': `# everything, in order
- name: web servers
  hosts: webservers
  gather_facts: false
  roles:
    - common
    - acme.webserver
`,
      'group_vars/webservers.yml': 'site_title: Production site\n',
      'roles/common/defaults/main.yml': 'motd_text: Managed by Plumbline\n',
      'roles/common/tasks/main.yml': `- name: message of the day
  ansible.builtin.copy:
    dest: "{{ plumbline_root }}/motd"
    content: "{{ motd_text }}\\n"
`,
      'galaxy_roles/acme.webserver/meta/main.yml': `galaxy_info:
  author: acme
  description: a small web root
  license: MIT
  min_ansible_version: "2.14"
dependencies:
  - common
`,
      'galaxy_roles/acme.webserver/tasks/main.yml': `- name: index page
  ansible.builtin.template:
    src: index.html.j2
    dest: "{{ plumbline_root }}/index.html"
- name: reload the web server
  ansible.builtin.command: /bin/true
`,
      'galaxy_roles/acme.webserver/templates/index.html.j2': indexTemplate('v1'),
      'inventories/production/inventory.yaml': 'playbook: ../../site.yml\ninventory: hosts.yml\napproval: auto\n',
      'inventories/production/hosts.yml': hosts.inventoryYaml('webservers'),
      'inventories/production/known_hosts': hosts.knownHosts(),
      'README.md': '# web infrastructure\n',
    },
    'production web servers, in the documented layout',
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


test('playbook, roles, group_vars and ansible.cfg at the repository root: applied to the hosts, every path repository-relative', async () => {
  const unit = await daemon.waitForUnit('production', 'InSync', { revision: first, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) {
    assert.equal(hosts.readOnHost(h.name, 'motd'), 'Managed by Plumbline\n');
    assert.equal(hosts.readOnHost(h.name, 'index.html'), `<h1>Production site</h1>\n<p>served by ${h.name}</p>\n<footer>v1</footer>\n`);
  }
  const plan = await daemon.planAt('production', first);
  const detail = await daemon.api<{ rendered: string }>(`/api/v1/plans/${plan.id}`);
  const text = detail.body.rendered;
  assert.match(text, /^Ansible check of site\.yml on inventories\/production\/hosts\.yml \(3 hosts targeted\)/);
  assert.match(text, /Configuration: ansible\.cfg/);
  assert.match(text, /~ change: acme\.webserver : index page \[ansible\.builtin\.template\] at galaxy_roles\/acme\.webserver\/tasks\/main\.yml:1/);
  assert.match(text, /~ change: common : message of the day \[ansible\.builtin\.copy\] at roles\/common\/tasks\/main\.yml:1/);
  assert.match(text, /\? acme\.webserver : reload the web server \[ansible\.builtin\.command\] at galaxy_roles\/acme\.webserver\/tasks\/main\.yml:5/);
  assert.doesNotMatch(text, /\/(runs|snapshots|tree)\//, `no daemon folder in the plan:\n${text}`);
  assert.doesNotMatch(text, new RegExp(daemon.stateDir));

  const why = daemon.cli(['why', 'production', '--json']);
  assert.equal(why.code, 0, why.stderr);
  const reads = (JSON.parse(why.stdout) as { entries: Array<{ path: string }> }).entries.map((e) => e.path);
  for (const path of ['ansible.cfg', 'site.yml', 'group_vars', 'roles/common', 'galaxy_roles/acme.webserver']) assert.ok(reads.includes(path), `${path} in ${reads.join(', ')}`);
});

test('a commit that changes only a shared role or group_vars plans the inventory; one nobody reads plans nothing', async () => {
  const second = repo.commit({ 'galaxy_roles/acme.webserver/templates/index.html.j2': indexTemplate('v2') }, 'new footer');
  assert.deepEqual((await daemon.sync()).scheduled, ['production']);
  const unit = await daemon.waitForUnit('production', 'InSync', { revision: second });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) assert.match(hosts.readOnHost(h.name, 'index.html'), /<footer>v2<\/footer>/);

  const third = repo.commit({ 'group_vars/webservers.yml': 'site_title: Our site\n' }, 'retitle');
  assert.deepEqual((await daemon.sync()).scheduled, ['production']);
  await daemon.waitForUnit('production', 'InSync', { revision: third });
  for (const h of hosts.hosts) assert.match(hosts.readOnHost(h.name, 'index.html'), /<h1>Our site<\/h1>/);

  repo.commit({ 'README.md': '# web infrastructure, documented\n' }, 'docs');
  assert.deepEqual((await daemon.sync()).scheduled, []);
});

test('the committed ansible.cfg switching host key checking off changes nothing: a host with a new key is refused', async () => {
  const host = hosts.host('host-3');
  await host.rotateHostKey();
  const offered = fingerprint(Buffer.from((await host.publicKey()).split(' ')[1]!, 'base64'));
  const revision = repo.commit({ 'group_vars/webservers.yml': 'site_title: Their site\n' }, 'retitle again');
  await daemon.sync();
  const plan = await daemon.planAt('production', revision);
  const third = plan.hosts?.find((h) => h.name === 'host-3');
  assert.equal(third?.state, 'unreachable');
  assert.match(third?.message ?? '', /host-3: host key verification failed/);
  assert.ok(third?.message?.includes(offered), `${third?.message} names ${offered}`);
  const unit = await daemon.waitForUnit('production', 'Failed', { revision });
  assert.match(unit.message, /allowUnreachable/);
  assert.match(hosts.readOnHost('host-3', 'index.html'), /<h1>Our site<\/h1>/, 'nothing reached the host');
  assert.match(hosts.readOnHost('host-1', 'index.html'), /<h1>Our site<\/h1>/, 'the apply did not start');
});
