import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unifiedDiff } from './diff.ts';

test('unified diff with context, as diff -u prints it', () => {
  const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
  const after = 'a\nb\nc\nD\ne\nf\ng\nh\n';
  assert.equal(unifiedDiff(before, after, { before: 'old', after: 'new' }), '--- old\n+++ new\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n');
});

test('new file, emptied file, no change', () => {
  assert.equal(unifiedDiff('', 'x\ny\n', { before: 'before', after: 'after' }), '--- before\n+++ after\n@@ -0,0 +1,2 @@\n+x\n+y\n');
  assert.equal(unifiedDiff('x\n', '', { before: 'before', after: 'after' }), '--- before\n+++ after\n@@ -1 +0,0 @@\n-x\n');
  assert.equal(unifiedDiff('same\n', 'same\n', { before: 'a', after: 'b' }), '');
});

test('distant changes make separate hunks', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
  const changed = [...lines];
  changed[2] = 'first';
  changed[25] = 'second';
  const diff = unifiedDiff(`${lines.join('\n')}\n`, `${changed.join('\n')}\n`, { before: 'a', after: 'b' });
  assert.equal(diff.match(/^@@/gm)?.length, 2);
  assert.match(diff, /^-line 25\n\+second$/m);
});
