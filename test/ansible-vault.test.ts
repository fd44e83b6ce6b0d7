import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { disposeAll } from '../testkit/teardown.ts';

// Ansible Vault on 127.0.0.30-32: an inline `!vault` value and a whole vaulted
// vars file reach the hosts, and nothing else ever shows them.
let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;
let revision: string;
const dbPassword = `db-${randomBytes(9).toString('hex')}`;
const apiToken = `tok-${randomBytes(9).toString('hex')}`;
const vaultPassword = `vault-${randomBytes(9).toString('hex')}`;

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.30' });
  const passwordFile = join(hosts.dir, 'vault-pass');
  writeFileSync(passwordFile, `${vaultPassword}\n`, { mode: 0o600 });
  const inline = execFileSync('ansible-vault', ['encrypt_string', '--vault-password-file', passwordFile, dbPassword, '--name', 'db_password'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const whole = execFileSync('ansible-vault', ['encrypt', '--vault-password-file', passwordFile, '--output', '-', '-'], {
    encoding: 'utf8',
    input: `api_token: ${apiToken}\n`,
  });
  repo = new TestRepo();
  revision = repo.commit(
    {
      'inventories/app/inventory.yaml': 'playbook: site.yml\napproval: auto\n',
      'inventories/app/hosts.yml': hosts.inventoryYaml('app'),
      'inventories/app/known_hosts': hosts.knownHosts(),
      'inventories/app/group_vars/app/db.yml': inline,
      'inventories/app/group_vars/app/api.yml': whole,
      'inventories/app/site.yml': `- name: app servers
  hosts: app
  gather_facts: false
  tasks:
    - name: credentials
      ansible.builtin.copy:
        dest: "{{ plumbline_root }}/app.env"
        content: "DB_PASSWORD={{ db_password }}\\nAPI_TOKEN={{ api_token }}\\n"
        mode: "0600"
    - name: show what was deployed
      ansible.builtin.debug:
        msg: "deployed {{ db_password }} and {{ api_token }}"
`,
    },
    'app inventory with vaulted variables',
  );
  daemon = await TestDaemon.start({ sourceUrl: repo.url, extraConfig: hosts.ansibleConfig([`vaultPasswordFile: ${passwordFile}`]) });
});

after(() =>
  disposeAll(
    () => daemon?.dispose(),
    () => repo?.dispose(),
    () => hosts?.dispose(),
  ),
);

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) continue;
    if (info.isDirectory()) out.push(...filesUnder(path));
    else if (info.isFile()) out.push(path);
  }
  return out;
}

test('vaulted variables work: their values land in files on the hosts', async () => {
  const unit = await daemon.waitForUnit('app', 'InSync', { revision, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'app.env'), `DB_PASSWORD=${dbPassword}\nAPI_TOKEN=${apiToken}\n`);
});

test('vaulted values never leak: daemon logs, API answers, stored JSON under stateDir', async () => {
  const secrets = [dbPassword, apiToken, vaultPassword];
  const [plan] = await daemon.plans('app');
  assert.ok(plan);
  const answers = [
    (await daemon.api('/api/v1/status')).text,
    (await daemon.api('/api/v1/plans')).text,
    (await daemon.api(`/api/v1/plans/${plan.id}`)).text,
    (await daemon.api('/api/v1/history?limit=1000')).text,
    daemon.cli(['show', plan.id]).stdout,
    daemon.cli(['status', '--json']).stdout,
  ];
  // The plan did show the change, with the values masked.
  const detail = await daemon.api<{ rendered: string }>(`/api/v1/plans/${plan.id}`);
  assert.match(detail.body.rendered, /\+DB_PASSWORD=\(sensitive\)/);
  assert.match(detail.body.rendered, /\+API_TOKEN=\(sensitive\)/);

  const stored = filesUnder(daemon.stateDir).filter((f) => !f.includes(`${join(daemon.stateDir, 'source')}/`));
  assert.ok(stored.some((f) => f.endsWith('document.json')));
  for (const secret of secrets) {
    assert.ok(!daemon.logs.includes(secret), 'daemon logs');
    for (const answer of answers) assert.ok(!answer.includes(secret), 'API and CLI answers');
    for (const file of stored) {
      const content = readFileSync(file);
      assert.ok(!content.includes(secret), `${file} holds a secret`);
    }
  }
  // The debug task's message went through the same masking.
  assert.ok(daemon.logs.includes('(sensitive)') || answers.some((a) => a.includes('(sensitive)')));
});
