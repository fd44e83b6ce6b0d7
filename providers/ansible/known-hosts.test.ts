import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { describeVerdict, entryMatches, fingerprint, lookupName, parseKnownHosts, verifyHostKey } from './known-hosts.ts';

// Real files: written by testkit/ssh-hosts.ts, hashed by `ssh-keygen -H`,
// fingerprints by `ssh-keygen -lf`.
const read = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const plain = parseKnownHosts(read('known_hosts.plain'));
const hashed = parseKnownHosts(read('known_hosts.hashed'));
const key50 = plain[0]!.key;
const key51 = plain[1]!.key;

test('fingerprints are the ones ssh-keygen prints', () => {
  const expected = read('known_hosts.fingerprints').trim().split('\n').map((l) => l.split(' ')[1]);
  assert.deepEqual([fingerprint(key50), fingerprint(key51)], expected);
});

test('[host]:port names, plain and hashed', () => {
  const name = lookupName('127.0.0.50', 2222);
  assert.equal(name, '[127.0.0.50]:2222');
  assert.equal(lookupName('db.example.com', 22), 'db.example.com');
  assert.equal(verifyHostKey(plain, name, key50).status, 'ok');
  assert.equal(verifyHostKey(hashed, name, key50).status, 'ok');
  assert.equal(verifyHostKey(hashed, '[127.0.0.51]:2222', key51).status, 'ok');
  // The same address on port 22 is another name.
  assert.equal(verifyHostKey(hashed, '127.0.0.50', key50).status, 'unknown');
});

test('a changed key and an unknown host are refused with the offered key\'s fingerprint', () => {
  const changed = verifyHostKey(hashed, '[127.0.0.50]:2222', key51);
  assert.equal(changed.status, 'changed');
  assert.equal(changed.fingerprint, fingerprint(key51));
  assert.match(describeVerdict('web-1', '[127.0.0.50]:2222', changed, 'known_hosts'), /^web-1: host key verification failed: the ED25519 key SHA256:\S+ offered by \[127\.0\.0\.50\]:2222 does not match known_hosts/);
  const unknown = verifyHostKey(plain, '[127.0.0.99]:2222', key50);
  assert.equal(unknown.status, 'unknown');
  assert.ok(describeVerdict('web-9', '[127.0.0.99]:2222', unknown, 'known_hosts').includes(fingerprint(key50)));
});

test('patterns: lists, wildcards, negation, markers', () => {
  assert.ok(entryMatches('web1,web2', 'web2'));
  assert.ok(entryMatches('*.example.com', 'db.example.com'));
  assert.ok(entryMatches('db?.example.com', 'db1.example.com'));
  assert.ok(!entryMatches('*.example.com,!db.example.com', 'db.example.com'));
  assert.ok(entryMatches('[10.0.0.*]:2222', '[10.0.0.7]:2222'));
  assert.ok(!entryMatches('10.0.0.7', '[10.0.0.7]:2222'));
  const line = read('known_hosts.plain').split('\n')[0]!.split(' ').slice(1).join(' ');
  const revoked = parseKnownHosts(`@revoked * ${line}\n[127.0.0.50]:2222 ${line}\n# comment\n\n`);
  assert.equal(verifyHostKey(revoked, '[127.0.0.50]:2222', key50).status, 'revoked');
  assert.equal(parseKnownHosts(`@cert-authority *.example.com ${line}\n`)[0]?.marker, 'cert-authority');
});
