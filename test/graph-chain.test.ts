import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import type { HistoryEvent } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { repoRoot } from '../testkit/files.ts';
import { freePort } from '../testkit/ports.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { waitFor } from '../testkit/wait.ts';

// The whole chain, from the repository's own examples: stacks/machines (real
// terraform; its provisioners start real sshd servers on 127.0.0.40-41) feeds
// inventories/web (real ansible-playbook over SSH) through `hostsFrom` and a
// `fromOutput` variable. One repository and daemon for the file: each test
// builds on the previous commit.
const ADDRESSES = { 'web-1': '127.0.0.40', 'web-2': '127.0.0.41' };

let work: string;
let machinesDir: string;
let port: number;
let repo: TestRepo;
let daemon: TestDaemon;
let first: string;

/** The example folder as committed files. */
function example(folder: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files[relative(repoRoot, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(join(repoRoot, folder));
  return files;
}

/** stacks/machines/stack.yaml with this test's machines, folders and `zone`. */
function machinesManifest(zone: string): Record<string, string> {
  return {
    'stacks/machines/stack.yaml': [
      'kind: terraform',
      'approval: auto',
      'vars:',
      '  machines:',
      ...Object.entries(ADDRESSES).map(([name, address]) => `    ${name}: ${address}`),
      `  port: ${port}`,
      `  zone: ${zone}`,
      '  domain: chain.test',
      `  machines_dir: ${machinesDir}`,
      `  authorized_keys_file: ${join(work, 'authorized_keys')}`,
      '',
    ].join('\n'),
  };
}

const onHost = (host: string, path: string) => readFileSync(join(machinesDir, host, 'root', path), 'utf8');

function at(events: HistoryEvent[], type: string, unit: string, revision: string): HistoryEvent {
  const event = events.find((e) => e.type === type && e.unit === unit && e.revision === revision);
  assert.ok(event, `${type} of ${unit} at ${revision.slice(0, 8)}`);
  return event;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'plumbline-chain-'));
  machinesDir = join(work, 'machines');
  mkdirSync(machinesDir);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'plumbline-chain-test', '-f', join(work, 'client_ed25519')]);
  writeFileSync(join(work, 'authorized_keys'), readFileSync(join(work, 'client_ed25519.pub')), { mode: 0o600 });
  port = await freePort(ADDRESSES['web-1']);
  repo = new TestRepo();
  daemon = await TestDaemon.start({
    sourceUrl: repo.url,
    extraConfig: [
      'ansible:',
      `  privateKeyFile: ${join(work, 'client_ed25519')}`,
      // As the demo does: the machines' SSH servers outlive the apply, keep their files
      // under machinesDir, and change user and root folder per login.
      'sandbox:',
      '  grants:',
      '    - units: [machines]',
      `      readable: [${join(work, 'authorized_keys')}]`,
      `      writable: [${machinesDir}]`,
      '      outlive: true',
      '      capabilities: [CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID, CAP_KILL]',
    ].join('\n'),
  });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
  // The machines' sshd servers detached from terraform: stop them by their pid files.
  if (machinesDir && existsSync(machinesDir)) {
    for (const host of readdirSync(machinesDir)) stopServer(join(machinesDir, host, 'sshd.pid'));
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

test('one commit converges the chain: terraform creates the machines, then ansible configures them', async () => {
  first = repo.commit({ ...example('stacks/machines'), ...machinesManifest('zone-a'), ...example('inventories/web') }, 'the chain');
  await daemon.sync();
  await daemon.waitForUnit('machines', 'InSync', { revision: first });
  const web = await daemon.waitForUnit('web', 'InSync', { revision: first, timeoutMs: 240_000 });
  assert.equal(web.reason, 'Converged', web.message);
  assert.deepEqual(
    web.hosts?.map((h) => [h.name, h.state]),
    [
      ['web-1', 'changed'],
      ['web-2', 'changed'],
    ],
  );

  // Host variables from the stack's output (`plumbline_root`, `zone`), a
  // variable from a `fromOutput` reference (`domain`), group_vars of the inventory.
  for (const host of Object.keys(ADDRESSES)) {
    assert.match(onHost(host, 'srv/www/index.html'), new RegExp(`This is ${host}, in zone zone-a\\.`));
    assert.match(onHost(host, 'srv/www/server.conf'), new RegExp(`server_name ${host}\\.chain\\.test`));
    assert.match(onHost(host, 'srv/www/server.conf'), /listen 8080/);
  }

  // The inventory was planned only after the machines were applied, at the same commit.
  const events = await daemon.history();
  assert.ok(Date.parse(at(events, 'planned', 'web', first).startedAt!) >= Date.parse(at(events, 'applied', 'machines', first).finishedAt!));
  assert.ok(events.some((e) => e.type === 'waiting' && e.unit === 'web' && /waits for machines/.test(e.message)));

  // The plan names where the hosts and their keys came from; every key was checked.
  const plan = (await daemon.plans('web')).find((p) => p.revision === first)!;
  const detail = await daemon.api<{ rendered: string }>(`/api/v1/plans/${plan.id}`);
  assert.match(detail.body.rendered, /on inventories\/web\/hosts\.yml \+ hostsFrom machines\.hosts \(2 hosts targeted\)/);
  // Both hosts were reached (changed, above) with StrictHostKeyChecking=yes against these keys.
  assert.match(detail.body.rendered, /Host keys checked against host keys from machines\.hosts/);

  // The run's generated inventory and known_hosts stay with the plan (0600); no extra-vars file is left.
  const runs = join(daemon.stateDir, 'runs');
  const withHosts = readdirSync(runs).filter((r) => existsSync(join(runs, r, 'artifacts', 'hosts-from.yml')));
  assert.ok(withHosts.length > 0);
  for (const r of withHosts) {
    assert.equal(statSync(join(runs, r, 'artifacts', 'hosts-from.yml')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(runs, r, 'artifacts', 'known_hosts'), 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.40\\]:${port} ssh-ed25519 `, 'm'));
  }
  assert.deepEqual(readdirSync(runs).flatMap((r) => readdirSync(join(runs, r)).filter((f) => f.startsWith('extra-vars'))), []);
});

test('an upstream output change plans and applies the inventory again, though its folder did not change', async () => {
  const appliedBefore = (await daemon.history('web')).filter((e) => e.type === 'applied').length;
  const rev = repo.commit(machinesManifest('zone-b'), 'machines: zone b');
  const answer = await daemon.sync();
  assert.deepEqual(answer.scheduled, ['machines']);
  await daemon.waitForUnit('machines', 'InSync', { revision: rev });
  await waitFor(() => (readdirSync(machinesDir).length === 2 && onHost('web-2', 'srv/www/index.html').includes('zone zone-b')) || undefined, {
    what: 'web to apply the new zone',
    timeoutMs: 240_000,
  });
  const web = await daemon.waitForUnit('web', 'InSync');
  assert.equal(web.lastAppliedRevision, rev);
  assert.equal(web.reason, 'Converged', web.message);
  assert.match(onHost('web-1', 'srv/www/index.html'), /zone zone-b/);
  const plan = (await daemon.plans('web'))[0]!;
  assert.equal(plan.changeSet, `cs-${rev.slice(0, 12)}`, 'the re-plan belongs to the commit that caused it');
  // Only the page changes: 1 task on each of the 2 hosts.
  assert.deepEqual(plan.summary, { add: 0, change: 2, destroy: 0, replace: 0 });
  // History events land just after the status they follow: wait for them, never race them.
  await waitFor(async () => (await daemon.history('web')).filter((e) => e.type === 'applied').length === appliedBefore + 1, { what: 'exactly one more applied event' });
});

test('a failing upstream leaves the inventory Blocked, naming the blocker', async () => {
  const broken = example('stacks/machines')['stacks/machines/main.tf']!.replace('output "domain" {\n  value = var.domain', 'output "domain" {\n  value = var.no_such_variable');
  const rev = repo.commit(
    { 'stacks/machines/main.tf': broken, 'inventories/web/site.yml': `${example('inventories/web')['inventories/web/site.yml']}# reviewed\n` },
    'break machines, touch web',
  );
  await daemon.sync();
  await daemon.waitForUnit('machines', 'Failed', { revision: rev });
  const blocked = await daemon.waitForUnit('web', 'Blocked', { revision: rev });
  assert.equal(blocked.reason, 'DependencyNotReady');
  assert.match(blocked.message, /blocked by machines \(Failed/);
  await waitFor(async () => (await daemon.history('web')).some((e) => e.type === 'blocked' && /machines/.test(e.message)), { what: 'a blocked event naming machines' });
  // The machines are untouched: still serving the last applied configuration.
  assert.match(onHost('web-1', 'srv/www/index.html'), /zone zone-b/);
});

/** Stop one detached sshd (and its connections) by its pid file. */
function stopServer(pidFile: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  for (const child of childrenOf(pid)) kill(child);
  kill(pid);
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return out;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
