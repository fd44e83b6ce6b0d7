import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger, type SshHosts, startSshHosts } from '../../testkit/providers.ts';
import { hostTarget } from './inventory.ts';
import { parseKnownHosts } from './known-hosts.ts';
import { preflight } from './preflight.ts';

// Real sshd on 127.0.0.40-42 (testkit/ssh-hosts.ts), checked with node-ssh.
let dir: string;
let ssh: SshHosts;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plumbline-preflight-'));
  ssh = await startSshHosts({ count: 3, firstAddress: '127.0.0.40', port: 2230, dir });
});
after(async () => {
  await ssh?.stop();
  await rm(dir, { recursive: true, force: true });
});

const targets = () => ssh.hosts.map((h) => hostTarget(h.name, { ansible_host: h.address, ansible_port: h.port }, { user: ssh.user, port: null, privateKeyFile: null }));
const fingerprintOf = (line: string) => `SHA256:${createHash('sha256').update(Buffer.from(line.split(' ')[1]!, 'base64')).digest('base64').replace(/=+$/, '')}`;

test('reachable hosts with a known key and python3', async () => {
  const known = await readFile(ssh.knownHostsFile, 'utf8');
  const findings = await preflight(targets(), { knownHosts: parseKnownHosts(known), knownHostsFile: 'known_hosts', privateKeyFile: ssh.privateKeyFile, timeoutMs: 10_000, log: silentLogger });
  assert.deepEqual(findings.map((f) => [f.host, f.reachable, f.hostKey]), [
    ['host-1', true, 'ok'],
    ['host-2', true, 'ok'],
    ['host-3', true, 'ok'],
  ]);
  assert.match(findings[0]!.python ?? '', /python3$/);
  assert.equal(findings[0]!.fingerprint, fingerprintOf(await ssh.hosts[0]!.publicKey()));
});

test('an unknown host, a changed key and a stopped host are each reported, the others still checked', async () => {
  const known = (await readFile(ssh.knownHostsFile, 'utf8')).split('\n').filter((l) => !l.startsWith('[127.0.0.40]')).join('\n');
  await ssh.hosts[1]!.rotateHostKey();
  await ssh.hosts[2]!.stop();
  try {
    const findings = await preflight(targets(), { knownHosts: parseKnownHosts(known), knownHostsFile: 'known_hosts', privateKeyFile: ssh.privateKeyFile, timeoutMs: 10_000, log: silentLogger });
    const [first, second, third] = findings;
    assert.equal(first?.hostKey, 'unknown');
    assert.equal(first?.reachable, false);
    assert.ok(first?.message?.includes(fingerprintOf(await ssh.hosts[0]!.publicKey())), first?.message);
    assert.match(first?.message ?? '', /^host-1: host key verification failed: no key for \[127\.0\.0\.40\]:2230 in known_hosts/);
    assert.equal(second?.hostKey, 'changed');
    assert.ok(second?.message?.includes(fingerprintOf(await ssh.hosts[1]!.publicKey())), second?.message);
    assert.equal(third?.reachable, false);
    assert.match(third?.message ?? '', /ECONNREFUSED/);
  } finally {
    await ssh.hosts[2]!.start();
  }
});
