import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASK } from '../../engine/provider-kit.ts';
import { childPath, diffValues, type AttributeChange, type Marks } from './value-diff.ts';

const NO_MARKS: Marks = { before: undefined, after: undefined, unknown: undefined };

function diff(before: unknown, after: unknown, marks: Partial<Marks> = {}): AttributeChange[] {
  const out: AttributeChange[] = [];
  diffValues('v', before, after, { ...NO_MARKS, ...marks }, out);
  return out;
}

describe('diffValues', () => {
  it('names only what changed in nested objects, each at its path', () => {
    assert.deepEqual(diff({ tags: { Name: 'web', Env: 'prod' }, size: 1 }, { tags: { Name: 'api', Env: 'prod', Team: 'core' }, size: 1 }), [
      { path: 'v.tags.Name', before: 'web', after: 'api' },
      { path: 'v.tags.Team', after: 'core' },
    ]);
  });

  it('diffs lists of objects element by element', () => {
    const before = { ingress: [{ from_port: 80, to_port: 80 }] };
    const after = { ingress: [{ from_port: 8080, to_port: 80 }] };
    assert.deepEqual(diff(before, after), [{ path: 'v.ingress[0].from_port', before: 80, after: 8080 }]);
  });

  it('shows an insertion into a list as one addition, not as every later element changing', () => {
    assert.deepEqual(diff(['a', 'b', 'c', 'd'], ['a', 'x', 'b', 'c', 'd']), [{ path: 'v[1]', after: 'x' }]);
    assert.deepEqual(diff(['a', 'b', 'c'], ['a', 'c']), [{ path: 'v[1]', before: 'b' }]);
    assert.deepEqual(diff([1, 2, 3, 4], [1, 9, 3, 4]), [{ path: 'v[1]', before: 2, after: 9 }]);
  });

  it('keeps empty collections and null apart from absence', () => {
    assert.deepEqual(diff(undefined, { list: [], map: {}, none: null }), [
      { path: 'v.list', after: [] },
      { path: 'v.map', after: {} },
    ]);
    assert.deepEqual(diff(null, []), [{ path: 'v', after: [] }]);
    assert.deepEqual(diff([], null), [{ path: 'v', before: [] }]);
    assert.deepEqual(diff(['x'], []), [{ path: 'v[0]', before: 'x' }]);
    assert.deepEqual(diff([], []), []);
    assert.deepEqual(diff({}, {}), []);
  });

  it('marks unknown list elements instead of inventing a value for them', () => {
    assert.deepEqual(diff(undefined, ['known', null], { unknown: [false, true] }), [
      { path: 'v[0]', after: 'known' },
      { path: 'v[1]', unknown: true },
    ]);
    // An unknown element never equals a known one.
    assert.deepEqual(diff(['a', 'b'], ['a', null], { unknown: [false, true] }), [{ path: 'v[1]', before: 'b', unknown: true }]);
  });

  it('lists what an object held before it becomes unknown', () => {
    assert.deepEqual(diff({ a: 1, b: [] }, null, { unknown: true }), [
      { path: 'v.a', before: 1 },
      { path: 'v.b', before: [] },
      { path: 'v', unknown: true },
    ]);
    assert.deepEqual(diff('old', null, { unknown: true }), [{ path: 'v', before: 'old', unknown: true }]);
  });

  it('masks sensitive values at every depth, and whole sensitive collections without their shape', () => {
    const before = { db: { users: [{ name: 'a', password: 'P-old-1' }] } };
    const after = { db: { users: [{ name: 'a', password: 'P-new-2' }] } };
    const marks = { before: { db: { users: [{ password: true }] } }, after: { db: { users: [{ password: true }] } } };
    assert.deepEqual(diff(before, after, marks), [{ path: 'v.db.users[0].password', before: MASK, after: MASK, sensitive: true }]);
    assert.deepEqual(diff({ keys: ['k1', 'k2'] }, { keys: ['k1', 'k2', 'k3'] }, { before: { keys: true }, after: { keys: true } }), [
      { path: 'v.keys', before: MASK, after: MASK, sensitive: true },
    ]);
    assert.deepEqual(diff(undefined, { a: ['x', 'S-9'] }, { after: { a: [false, true] } }), [
      { path: 'v.a[0]', after: 'x' },
      { path: 'v.a[1]', after: MASK, sensitive: true },
    ]);
    // Only the sensitivity changed: still a change, still masked.
    assert.deepEqual(diff('same', 'same', { before: false, after: true }), [{ path: 'v', before: MASK, after: MASK, sensitive: true }]);
  });

  it('shows a change of kind as what goes and what comes', () => {
    assert.deepEqual(diff('text', { a: 1 }), [
      { path: 'v', before: 'text' },
      { path: 'v.a', after: 1 },
    ]);
  });

  it('stays linear on long lists whose middle is unrelated', () => {
    const before = Array.from({ length: 2000 }, (_, i) => `b${i}`);
    const after = Array.from({ length: 2000 }, (_, i) => `a${i}`);
    const started = performance.now();
    const out = diff(before, after);
    assert.equal(out.length, 2000);
    assert.deepEqual(out[0], { path: 'v[0]', before: 'b0', after: 'a0' });
    assert.ok(performance.now() - started < 1000, 'a 2000 x 2000 list is compared position by position');
  });
});

describe('childPath', () => {
  it('writes attributes, indexes and odd keys as terraform does', () => {
    assert.equal(childPath(childPath('', 'ingress'), 0), 'ingress[0]');
    assert.equal(childPath('tags', 'Name'), 'tags.Name');
    assert.equal(childPath('tags', 'kubernetes.io/role'), 'tags["kubernetes.io/role"]');
  });
});
