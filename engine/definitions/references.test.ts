import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findReferences, parseReference, resolveReferences } from './references.ts';

test('references name a unit, an output and an optional path', () => {
  assert.deepEqual(parseReference('network.vpc_id'), { text: 'network.vpc_id', unit: 'network', output: 'vpc_id', path: [] });
  assert.deepEqual(parseReference('machines.hosts[1].address')?.path, [1, 'address']);
  assert.equal(parseReference('network'), undefined);
  assert.equal(parseReference('network..x'), undefined);
  assert.equal(parseReference('[0].x'), undefined);
});

test('references are found anywhere in a value, with their place', () => {
  const found = findReferences({ a: 1, b: { fromOutput: 'net.id' }, c: [{ fromOutput: 'bad' }] }, ['vars']);
  assert.deepEqual(found.map((f) => f.at), [['vars', 'b'], ['vars', 'c', 0]]);
  assert.equal(found[0]!.reference?.unit, 'net');
  assert.equal(found[1]!.reference, undefined);
});

test('resolution replaces references and reports sensitive use', () => {
  const outputs = {
    net: { vpc_id: { value: 'vpc-1', sensitive: false }, hosts: { value: [{ address: '127.0.0.5' }], sensitive: false } },
    db: { password: { value: 's3cret', sensitive: true } },
  } as Record<string, Record<string, { value: unknown; sensitive: boolean }>>;
  const plain = resolveReferences({ vpc: { fromOutput: 'net.vpc_id' }, first: { fromOutput: 'net.hosts[0].address' }, n: 3 }, (u) => outputs[u], 'app');
  assert.deepEqual(plain, { value: { vpc: 'vpc-1', first: '127.0.0.5', n: 3 }, sensitive: false, sensitiveValues: [] });
  // The values taken from sensitive outputs are named, so only they are masked.
  const secret = resolveReferences({ p: { fromOutput: 'db.password' }, vpc: { fromOutput: 'net.vpc_id' } }, (u) => outputs[u], 'app');
  assert.equal(secret.sensitive, true);
  assert.deepEqual(secret.sensitiveValues, ['s3cret']);
});

test('a missing unit, output or key is a clear error', () => {
  const outputs = { net: { vpc_id: { value: 'vpc-1', sensitive: false } } } as Record<string, Record<string, { value: unknown; sensitive: boolean }>>;
  assert.throws(() => resolveReferences({ x: { fromOutput: 'other.id' } }, (u) => outputs[u], 'app'), /needs other to be applied first/);
  assert.throws(() => resolveReferences({ x: { fromOutput: 'net.subnet' } }, (u) => outputs[u], 'app'), /its outputs: vpc_id/);
  assert.throws(() => resolveReferences({ x: { fromOutput: 'net.vpc_id.deep' } }, (u) => outputs[u], 'app'), /no key "deep"/);
});
