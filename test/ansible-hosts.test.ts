import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestHosts } from '../testkit/sshd.ts';
import { disposeAll } from '../testkit/teardown.ts';
import { webSitePlay } from '../testkit/ansible-units.ts';

// Per-host isolation on 127.0.0.20-22: a host that went away, a host whose
// key changed; the others' results stay visible.
let hosts: TestHosts;
let repo: TestRepo;
let daemon: TestDaemon;

const manifest = (port: number, allowUnreachable = false) =>
  `playbook: site.yml\napproval: auto\nallowUnreachable: ${allowUnreachable}\nvars:\n  listen_port: ${port}\n`;
const site = webSitePlay();

before(async () => {
  hosts = await TestHosts.start({ firstAddress: '127.0.0.20' });
  repo = new TestRepo();
  // Every apply checks its hosts again, however soon after its plan (the last test relies on it).
  daemon = await TestDaemon.start({ sourceUrl: repo.url, extraConfig: hosts.ansibleConfig(['recheckHostsAfter: 0s']) });
});

after(() =>
  disposeAll(
    () => daemon?.dispose(),
    () => repo?.dispose(),
    () => hosts?.dispose(),
  ),
);


function fingerprintOf(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(' ')[1]!, 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

test('all three hosts converge', async () => {
  const first = repo.commit(
    hosts.inventoryFolder('inventories/web', { manifest: manifest(8080), playbook: site }),
    'web inventory',
  );
  await daemon.sync();
  const unit = await daemon.waitForUnit('web', 'InSync', { revision: first, timeoutMs: 240_000 });
  assert.equal(unit.reason, 'Converged', unit.message);
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=8080\n');
});

test('an unreachable host is reported as unreachable, the others\' results are shown, and the apply does not start', async () => {
  await hosts.host('host-3').stop();
  const revision = repo.commit({ 'inventories/web/inventory.yaml': manifest(9090) }, 'listen on 9090');
  await daemon.sync();
  const plan = await daemon.planAt('web', revision);
  assert.deepEqual(
    plan.hosts?.map((h) => [h.name, h.state]),
    [
      ['host-1', 'changed'],
      ['host-2', 'changed'],
      ['host-3', 'unreachable'],
    ],
  );
  assert.match(plan.hosts![0]!.message ?? '', /changes: site settings/);
  assert.match(plan.hosts![2]!.message ?? '', /ECONNREFUSED/);

  const unit = await daemon.waitForUnit('web', 'Failed', { revision });
  assert.equal(unit.reason, 'ApplyFailed');
  assert.match(unit.message, /host-3/);
  assert.match(unit.message, /allowUnreachable/);
  assert.deepEqual(
    unit.hosts?.map((h) => [h.name, h.state]),
    [
      ['host-1', 'changed'],
      ['host-2', 'changed'],
      ['host-3', 'unreachable'],
    ],
  );
  assert.match(unit.hosts![0]!.message ?? '', /not applied: host-3 unreachable/);
  const failed = (await daemon.plans('web')).find((p) => p.id === plan.id)!;
  assert.equal(failed.status, 'Failed');
  assert.equal(failed.error?.code, 'E_HOSTS_UNREACHABLE');
  // Nothing was applied anywhere.
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=8080\n');
});

test('a changed host key is refused, naming the host and the key\'s SHA256 fingerprint', async () => {
  const host = hosts.host('host-3');
  await host.rotateHostKey();
  await host.start();
  const offered = fingerprintOf(await host.publicKey());
  const revision = repo.commit({ 'inventories/web/inventory.yaml': manifest(9091) }, 'listen on 9091');
  await daemon.sync();
  const plan = await daemon.planAt('web', revision);
  const third = plan.hosts?.find((h) => h.name === 'host-3');
  assert.equal(third?.state, 'unreachable');
  assert.match(third?.message ?? '', /host-3: host key verification failed/);
  assert.ok(third?.message?.includes(offered), `${third?.message} names ${offered}`);
  assert.deepEqual(plan.hosts?.filter((h) => h.name !== 'host-3').map((h) => h.state), ['changed', 'changed']);

  const unit = await daemon.waitForUnit('web', 'Failed', { revision });
  assert.ok(unit.message.includes(offered), unit.message);
  for (const h of hosts.hosts) assert.equal(hosts.readOnHost(h.name, 'site.conf'), 'listen=8080\n');
});

test('allowUnreachable: true lets the other hosts proceed', async () => {
  const revision = repo.commit({ 'inventories/web/inventory.yaml': manifest(9092, true) }, 'allow unreachable');
  await daemon.sync();
  const unit = await daemon.waitForUnit('web', 'InSync', { revision });
  assert.equal(unit.reason, 'PartiallyConverged', unit.message);
  assert.match(unit.message, /skipped unreachable: host-3/);
  assert.deepEqual(
    unit.hosts?.map((h) => [h.name, h.state]),
    [
      ['host-1', 'changed'],
      ['host-2', 'changed'],
      ['host-3', 'unreachable'],
    ],
  );
  assert.equal(hosts.readOnHost('host-1', 'site.conf'), 'listen=9092\n');
  assert.equal(hosts.readOnHost('host-2', 'site.conf'), 'listen=9092\n');
  assert.equal(hosts.readOnHost('host-3', 'site.conf'), 'listen=8080\n');
});

test('an apply checks its hosts again: a host gone since the plan stops it before anything changes', async () => {
  // Trust host-3's rotated key, so that the plan reaches all three hosts.
  const knownHosts = `${(await Promise.all(hosts.hosts.map(async (h) => `${h.knownHostsName} ${await h.publicKey()}`))).join('\n')}\n`;
  const revision = repo.commit(
    { 'inventories/web/inventory.yaml': manifest(9093).replace('approval: auto', 'approval: manual'), 'inventories/web/known_hosts': knownHosts },
    'manual approval, current host keys',
  );
  await daemon.sync();
  const waiting = await daemon.waitForUnit('web', 'AwaitingApproval', { revision, timeoutMs: 240_000 });
  const plan = (await daemon.plans('web')).find((p) => p.id === waiting.planId)!;
  assert.deepEqual(plan.hosts?.map((h) => h.state), ['changed', 'changed', 'changed']);

  await hosts.host('host-2').stop();
  const approve = daemon.cli(['approve', plan.id]);
  assert.equal(approve.code, 0, approve.stderr);
  const unit = await daemon.waitForUnit('web', 'Failed', { revision });
  assert.match(unit.message, /became unreachable after the plan/);
  assert.match(unit.message, /host-2/);
  // Nothing changed anywhere, not even on the hosts that are still there.
  assert.equal(hosts.readOnHost('host-1', 'site.conf'), 'listen=9092\n');
  assert.equal(hosts.readOnHost('host-2', 'site.conf'), 'listen=9092\n');
  assert.equal(hosts.readOnHost('host-3', 'site.conf'), 'listen=8080\n');
});
