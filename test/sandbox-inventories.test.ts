import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { UnitStatus } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { storedFiles } from '../testkit/files.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { waitFor } from '../testkit/wait.ts';
import { disposeAll } from '../testkit/teardown.ts';

// Two inventories, each given its own SSH key on the control host by
// plumbline.yaml (keys in a folder of their own, as /etc/plumbline/keys/<name>
// would be). The real daemon, ansible-playbook, bubblewrap and an sshd host
// on 127.0.0.90. `a` deploys with its key; `b`'s playbook runs tasks on the
// control host that try to read `a`'s key; `c` names `a`'s key in its own
// manifest, which no grant backs.

let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;
let keys: string;
let keyA: string;
let keyB: string;
let revision: string;

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.90', count: 1, names: ['box'] });
  keys = mkdtempSync(join(tmpdir(), 'plumbline-keys-'));
  keyA = join(keys, 'a', 'id_ed25519');
  keyB = join(keys, 'b', 'id_ed25519');
  mkdirSync(join(keys, 'a'), { mode: 0o700 });
  mkdirSync(join(keys, 'b'), { mode: 0o700 });
  // `a` logs in with the key the host accepts; `b` has a key of its own (its play runs locally).
  copyFileSync(hosts.ssh.privateKeyFile, keyA);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'inventory-b', '-f', keyB]);

  const manifest = (key: string) => `playbook: site.yml\napproval: auto\nssh:\n  privateKeyFile: ${key}\n`;
  repo = new TestRepo();
  revision = repo.commit({
    'inventories/a/inventory.yaml': manifest(keyA),
    'inventories/a/hosts.yml': hosts.inventoryYaml(),
    'inventories/a/known_hosts': hosts.knownHosts(),
    'inventories/a/site.yml': '- hosts: web\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy:\n        dest: "{{ plumbline_root }}/deployed-by-a"\n        content: "a\\n"\n',
    'inventories/b/inventory.yaml': manifest(keyB),
    'inventories/b/hosts.yml': 'all:\n  hosts:\n    control:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n',
    'inventories/b/known_hosts': '',
    // What the tasks read would show in the plan's diffs, stored and served by the daemon.
    'inventories/b/site.yml': [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      "    - name: read a's key with a lookup",
      '      ansible.builtin.copy:',
      '        dest: /tmp/stolen-by-lookup',
      `        content: "{{ lookup('file', '${keyA}') }}"`,
      '      ignore_errors: true',
      "    - name: read a's key with cat",
      `      ansible.builtin.command: cat ${keyA}`,
      '      check_mode: false',
      '      ignore_errors: true',
      '      register: copied',
      '    - name: keep what cat read',
      '      ansible.builtin.copy:',
      '        dest: /tmp/stolen-by-cat',
      '        content: "{{ copied.stdout }}"',
      '    - name: its own key is there',
      '      ansible.builtin.stat:',
      `        path: ${keyB}`,
      '      register: own',
      '    - name: assert it',
      '      ansible.builtin.assert:',
      '        that: own.stat.exists',
      '',
    ].join('\n'),
    'inventories/c/inventory.yaml': manifest(keyA),
    'inventories/c/hosts.yml': hosts.inventoryYaml(),
    'inventories/c/known_hosts': hosts.knownHosts(),
    'inventories/c/site.yml': '- hosts: web\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy:\n        dest: "{{ plumbline_root }}/deployed-by-c"\n        content: "c\\n"\n',
  });
  const grants = ['sandbox:', '  mode: bwrap', '  grants:', '    - units: [a]', `      readable: [${join(keys, 'a')}]`, '    - units: [b]', `      readable: [${join(keys, 'b')}]`];
  daemon = await TestDaemon.start({ sourceUrl: repo.url, extraConfig: grants.join('\n') });
});

after(() =>
  disposeAll(
    () => daemon?.dispose(),
    () => repo?.dispose(),
    () => hosts?.dispose(),
    () => keys && rmSync(keys, { recursive: true, force: true }),
  ),
);

async function settled(name: string): Promise<UnitStatus> {
  return waitFor(
    async () => {
      const unit = await daemon.unit(name);
      return unit && unit.lastAttemptedRevision === revision && ['InSync', 'Failed', 'Stalled'].includes(unit.phase) ? unit : undefined;
    },
    { what: `${name} to settle at ${revision.slice(0, 8)}`, timeoutMs: 180_000 },
  );
}

test('an inventory deploys with the key plumbline.yaml grants it', async () => {
  const a = await settled('a');
  assert.equal(a.phase, 'InSync', a.message);
  assert.equal(hosts.readOnHost('box', 'deployed-by-a'), 'a\n');
});

test('a playbook cannot read another inventory\'s key from the control host, only its own', async () => {
  const b = await settled('b');
  assert.equal(b.phase, 'InSync', b.message);
  const plan = (await daemon.plans('b')).find((p) => p.revision === revision)!;
  const detail = (await daemon.api<{ rendered: string }>(`/api/v1/plans/${plan.id}`)).text;
  // Both attempts ran, and failed for want of the file; its own key passed the assert.
  assert.match(detail, /could not locate file in lookup/);
  assert.match(detail, /No such file or directory/);
});

test('a manifest cannot give its inventory another inventory\'s key', async () => {
  const c = await settled('c');
  assert.equal(c.phase, 'Failed');
  assert.match(c.message, new RegExp(`names ${keyA} \\(ssh\\.privateKeyFile\\).*which plumbline\\.yaml does not grant to c`));
  assert.throws(() => hosts.readOnHost('box', 'deployed-by-c'), /ENOENT/);
});

test('the other inventory\'s key appears nowhere: logs, API answers, stored files', async () => {
  await settled('b');
  const body = readFileSync(keyA, 'utf8')
    .split('\n')
    .filter((line) => line.length > 20 && !line.startsWith('-----'));
  assert.ok(body.length > 0);
  const answers = [
    daemon.logs,
    (await daemon.api('/api/v1/status')).text,
    (await daemon.api('/api/v1/history')).text,
    ...(await Promise.all((await daemon.plans()).map(async (p) => (await daemon.api(`/api/v1/plans/${p.id}`)).text))),
  ];
  // Regular files: the SSH ControlPath sockets are there too.
  const files = [...storedFiles(daemon.stateDir)].filter((file) => statSync(file).isFile()).map((file) => ({ file, text: readFileSync(file).toString('latin1') }));
  for (const line of body) {
    for (const text of answers) assert.ok(!text.includes(line), 'no line of the key in logs or API answers');
    for (const { file, text } of files) assert.ok(!text.includes(line), `no line of the key in ${file}`);
  }
});
