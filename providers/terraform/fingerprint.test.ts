import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SecretRegistry } from '../../engine/provider-kit.ts';
import { canonicalJson, fingerprint } from './fingerprint.ts';
import { normalizePlan } from './normalize.ts';
import { parsePlanJson } from './plan-schema.ts';

const documentOf = (name: string) =>
  normalizePlan(parsePlanJson(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')), new SecretRegistry());

describe('fingerprint', () => {
  it('is stable for the same plan and differs between plans', () => {
    const a = fingerprint(documentOf('data-plan.json'));
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(fingerprint(documentOf('data-plan.json')), a);
    assert.notEqual(fingerprint(documentOf('data-noop-plan.json')), a);
  });

  it('ignores key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"e":2,"f":1}]},"b":1}');
    assert.equal(fingerprint({ a: 1, b: 2 }), fingerprint({ b: 2, a: 1 }));
  });
});
