import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import type { PreviewsAnswer, PlanDetail, StatusAnswer, MetricsAnswer } from '../engine/api/contract.ts';
import type { PlanRecord } from '../engine/model.ts';
import { previewRefKey } from '../engine/previews/state-folder.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { waitFor } from '../testkit/wait.ts';
import { disposeAll } from '../testkit/teardown.ts';

// Merge-request previews against the real daemon, git, terraform and
// ansible-playbook over SSH: a stack (stacks/net) feeds an inventory
// (inventories/web) through fromOutput variables; branches pushed beside
// main are planned speculatively and never applied.

let repo: TestRepo;
let hosts: TestHosts;
let daemon: TestDaemon;


function netStack(zone: string): Record<string, string> {
  return {
    'stacks/net/stack.yaml': 'kind: terraform\napproval: auto\n',
    'stacks/net/main.tf': [
      `variable "zone" {\n  type    = string\n  default = "${zone}"\n}`,
      'resource "terraform_data" "zone" {\n  input = var.zone\n}',
      '# Known only once applied when the zone changes.',
      'output "zone" {\n  value = terraform_data.zone.output\n}',
      '# Known at plan time.',
      'output "domain" {\n  value = "${var.zone}.example.test"\n}',
      '',
    ].join('\n'),
  };
}

async function sync(): Promise<void> {
  const res = await daemon.api('/api/v1/sync', { method: 'POST', body: {} });
  assert.equal(res.status, 200, res.text);
}

async function previewOf(ref: string, revision: string, settled = true) {
  return waitFor(
    async () => {
      await sync();
      const { body } = await daemon.api<PreviewsAnswer>(`/api/v1/previews?ref=${encodeURIComponent(ref)}`);
      const preview = body.previews.find((p) => p.ref === ref && p.revision === revision);
      if (!preview) return undefined;
      return !settled || preview.units.every((u) => u.status === 'Preview' || u.status === 'Failed') ? preview : undefined;
    },
    { what: `the preview of ${ref} at ${revision.slice(0, 8)}`, timeoutMs: 120_000 },
  );
}

const stateHash = () => createHash('sha256').update(readFileSync(join(daemon.stateDir, 'units', 'net', 'terraform.tfstate'))).digest('hex');
const motd = () => hosts.readOnHost('web-1', 'motd');

/** Every entry under a folder: its modification time, and a file's content hash. */
function folderPrint(dir: string): Record<string, string> {
  const print: Record<string, string> = {};
  const walk = (path: string) => {
    const info = statSync(path);
    print[relative(dir, path) || '.'] = `${info.mtimeMs} ${info.isDirectory() ? 'dir' : createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    if (info.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return print;
}

/** The `terraform init`s the daemon ran for previews of `unit` (its debug log of every command). */
function previewInits(unit: string): number {
  return daemon.logs
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; command?: string; args?: string[]; unit?: string; run?: string })
    .filter((e) => e.msg === 'executing command' && e.command === 'terraform' && e.args?.[0] === 'init' && e.unit === unit && e.run?.startsWith('preview-')).length;
}

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.140', count: 1, names: ['web-1'] });
  repo = new TestRepo();
  repo.commit({
    ...netStack('a'),
    'inventories/web/inventory.yaml': [
      'inventory: hosts.yml',
      'playbook: site.yml',
      'approval: auto',
      'dependsOn: [net]',
      'vars:',
      '  domain: {fromOutput: net.domain}',
      '  zone: {fromOutput: net.zone}',
      '',
    ].join('\n'),
    'inventories/web/hosts.yml': hosts.inventoryYaml('web'),
    'inventories/web/known_hosts': hosts.knownHosts(),
    'inventories/web/site.yml': [
      '- hosts: web',
      '  gather_facts: false',
      '  tasks:',
      '    - name: message of the day',
      '      ansible.builtin.copy:',
      '        dest: "{{ plumbline_root }}/motd"',
      '        content: "{{ domain }} {{ zone }}\\n"',
      '',
    ].join('\n'),
  });
  daemon = await TestDaemon.start({
    sourceUrl: repo.url,
    sourceConfig: ['  previews:', '    refs: ["refs/heads/*"]', '    exclude: ["refs/heads/keep-*"]', '    concurrency: 1'].join('\n'),
    extraConfig: hosts.ansibleConfig(),
  });
  await waitFor(
    async () => {
      const { body } = await daemon.api<StatusAnswer>('/api/v1/status');
      return body.units.length === 2 && body.units.every((u) => u.phase === 'InSync');
    },
    { what: 'main applied', timeoutMs: 180_000 },
  );
  assert.equal(motd(), 'a.example.test a\n');
});

after(() =>
  disposeAll(
    () => daemon?.stop(),
    () => hosts?.dispose(),
    () => repo?.dispose(),
  ),
);

let firstPlans: string[] = [];

test('a branch that changes a stack previews the stack and its dependent inventory, and applies nothing', async () => {
  const state = stateHash();
  const head = repo.pushBranch('feature', netStack('b'));
  const preview = await previewOf('refs/heads/feature', head);
  assert.deepEqual(preview.units.map((u) => [u.name, u.status]), [['net', 'Preview'], ['web', 'Preview']]);
  assert.equal(preview.mergeBase, repo.head());
  const [net, web] = preview.units;
  assert.ok(net!.summary!.change + net!.summary!.replace >= 1, JSON.stringify(net));
  assert.ok(web!.summary!.change >= 1, JSON.stringify(web));
  // The inventory was planned with the stack's planned output where known, and "known after apply" where not.
  const webPlan = (await daemon.api<PlanDetail>(`/api/v1/plans/${web!.planId}`)).body;
  assert.equal(webPlan.plan.status, 'Preview');
  assert.deepEqual(webPlan.plan.preview, { ref: 'refs/heads/feature' });
  assert.match(webPlan.rendered, /b\.example\.test \(known after apply\)/);
  // Nothing applied, the state untouched, the units' own records unchanged.
  assert.equal(motd(), 'a.example.test a\n');
  assert.equal(stateHash(), state);
  const { body: status } = await daemon.api<StatusAnswer>('/api/v1/status');
  assert.deepEqual(status.units.map((u) => u.phase), ['InSync', 'InSync']);
  const { body: plans } = await daemon.api<PlanRecord[]>('/api/v1/plans');
  const previews = plans.filter((p) => p.status === 'Preview');
  assert.deepEqual(previews.map((p) => p.preview?.ref), ['refs/heads/feature', 'refs/heads/feature']);
  // A preview cannot be approved.
  assert.equal((await daemon.api(`/api/v1/plans/${net!.planId}/approve`, { method: 'POST', body: {} })).status, 409);
  firstPlans = preview.units.map((u) => u.planId!);
});

test('a newer head supersedes the preview: its plans go, the new head is planned', async () => {
  const head = repo.pushBranch('feature', netStack('c'));
  const preview = await previewOf('refs/heads/feature', head);
  assert.deepEqual(preview.units.map((u) => u.status), ['Preview', 'Preview']);
  for (const id of firstPlans) assert.equal((await daemon.api(`/api/v1/plans/${id}`)).status, 404, `${id} removed`);
  const { body } = await daemon.api<PreviewsAnswer>('/api/v1/previews');
  assert.deepEqual(body.previews.map((p) => p.revision), [head]);
  firstPlans = preview.units.map((u) => u.planId!);
  assert.equal(motd(), 'a.example.test a\n');
});

test('a deleted ref takes its previews and their plans with it', async () => {
  repo.deleteBranch('feature');
  await waitFor(
    async () => {
      await sync();
      return (await daemon.api<PreviewsAnswer>('/api/v1/previews')).body.previews.length === 0;
    },
    { what: 'the previews gone', timeoutMs: 30_000 },
  );
  for (const id of firstPlans) assert.equal((await daemon.api(`/api/v1/plans/${id}`)).status, 404, `${id} removed`);
  const { body: plans } = await daemon.api<PlanRecord[]>('/api/v1/plans');
  assert.equal(plans.filter((p) => p.status === 'Preview').length, 0);
});

test('a preview whose code reads the daemon\'s API token is refused by the sandbox', async () => {
  const tokenFile = join(daemon.stateDir, 'api-token');
  const head = repo.pushBranch('thief', {
    'stacks/thief/stack.yaml': 'kind: terraform\napproval: auto\n',
    'stacks/thief/main.tf': `output "token" {\n  value = file(${JSON.stringify(tokenFile)})\n}\n`,
  });
  const preview = await previewOf('refs/heads/thief', head);
  assert.deepEqual(preview.units.map((u) => [u.name, u.status]), [['thief', 'Failed']]);
  const answers = [(await daemon.api('/api/v1/previews')).text, (await daemon.api('/api/v1/plans')).text, daemon.logs];
  for (const text of answers) assert.ok(!text.includes(daemon.token), 'the token appears nowhere');
  repo.deleteBranch('thief');
});

test('an idle poll with previews configured is one git fetch and nothing else', async () => {
  const excluded = repo.pushBranch('keep-this', netStack('z'));
  await sync();
  const { body: before } = await daemon.api<MetricsAnswer>('/api/v1/metrics');
  for (let i = 0; i < 3; i++) await sync();
  const { body: afterwards } = await daemon.api<MetricsAnswer>('/api/v1/metrics');
  const started = Object.fromEntries(Object.entries(afterwards.processes).map(([tool, n]) => [tool, n - (before.processes[tool] ?? 0)]).filter(([, n]) => n !== 0));
  assert.deepEqual(started, { git: 3 });
  const { body } = await daemon.api<PreviewsAnswer>('/api/v1/previews');
  assert.ok(!body.previews.some((p) => p.revision === excluded), 'an excluded ref is not previewed');
});

test('a preview plans against a copy of the state in the preview folder of its unit and ref: a later preview of the same branch does not init again, another branch never sees its data dir, the real state folder is untouched', async () => {
  const realFolder = join(daemon.stateDir, 'units', 'net');
  const folderOf = (ref: string) => join(daemon.stateDir, 'previews', 'units', 'net', previewRefKey(ref));
  const [refA, refB] = ['refs/heads/notes-a', 'refs/heads/notes-b'];
  const real = folderPrint(realFolder);
  const noChange = { add: 0, change: 0, destroy: 0, replace: 0 };

  const first = await previewOf(refA, repo.pushBranch('notes-a', { 'stacks/net/notes.tf': '# first note\n' }));
  // The resource in the real state shows as no change: the preview saw that state.
  assert.deepEqual(first.units.find((u) => u.name === 'net')?.summary, noChange, JSON.stringify(first));
  const fingerprintFile = join(folderOf(refA), 'terraform-data', 'plumbline-init-fingerprint');
  const initialized = statSync(fingerprintFile);
  const inits = previewInits('net');
  assert.ok(inits > 0, 'the first preview of net on branch A ran init');
  // Between previews the folder holds the tool's caches and no state.
  assert.deepEqual(readdirSync(folderOf(refA)), ['terraform-data']);
  // What branch A's code could leave in its data dir at plan time.
  writeFileSync(join(folderOf(refA), 'terraform-data', 'planted'), 'from branch A\n');

  const other = await previewOf(refB, repo.pushBranch('notes-b', { 'stacks/net/notes.tf': '# another branch\n' }));
  assert.deepEqual(other.units.find((u) => u.name === 'net')?.summary, noChange, JSON.stringify(other));
  assert.notEqual(folderOf(refB), folderOf(refA));
  assert.equal(existsSync(join(folderOf(refB), 'terraform-data', 'planted')), false, 'branch B never sees branch A\'s data dir');
  assert.equal(previewInits('net'), inits + 1, 'branch B inits in a data dir of its own');

  const second = await previewOf(refA, repo.pushBranch('notes-a', { 'stacks/net/notes.tf': '# second note\n' }));
  assert.deepEqual(second.units.find((u) => u.name === 'net')?.summary, noChange, JSON.stringify(second));
  assert.equal(previewInits('net'), inits + 1, 'no terraform init for the second preview of branch A');
  const reused = statSync(fingerprintFile);
  assert.deepEqual([reused.ino, reused.mtimeMs], [initialized.ino, initialized.mtimeMs], 'the data dir of branch A\'s first preview, as it was');
  assert.ok(existsSync(join(folderOf(refA), 'terraform-data', 'planted')));
  // No preview wrote (or even touched) the real state folder.
  assert.deepEqual(folderPrint(realFolder), real);
  assert.equal(motd(), 'a.example.test a\n');

  // A ref gone takes its preview folders.
  repo.deleteBranch('notes-a');
  repo.deleteBranch('notes-b');
  await waitFor(
    async () => {
      await sync();
      return !existsSync(folderOf(refA)) && !existsSync(folderOf(refB));
    },
    { what: 'the removal of the notes branches\' preview folders', timeoutMs: 30_000 },
  );
});

test('no preview folder stays for a ref gone or a unit the watched branch does not define', async () => {
  const folders = join(daemon.stateDir, 'previews', 'units');
  repo.commit({ 'README.md': 'Infrastructure of the test.\n' });
  await sync();
  // The thief stack above was defined only on its (deleted) branch; the feature and notes branches are gone.
  await waitFor(() => !existsSync(join(folders, 'thief')), { what: 'the cleanup of the thief\'s preview folder', timeoutMs: 30_000 });
  assert.deepEqual(readdirSync(folders), []);
});
