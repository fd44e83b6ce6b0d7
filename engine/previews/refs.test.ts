import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesRefGlob, previewedRefs } from './refs.ts';

test('a ref glob matches as a git refspec does: one star, across slashes', () => {
  assert.equal(matchesRefGlob('refs/heads/*', 'refs/heads/feature'), true);
  assert.equal(matchesRefGlob('refs/heads/*', 'refs/heads/team/feature'), true);
  assert.equal(matchesRefGlob('refs/pull/*/head', 'refs/pull/12/head'), true);
  assert.equal(matchesRefGlob('refs/pull/*/head', 'refs/pull/12/merge'), false);
  assert.equal(matchesRefGlob('refs/heads/*', 'refs/heads/'), false);
  assert.equal(matchesRefGlob('refs/heads/main', 'refs/heads/main'), true);
  assert.equal(matchesRefGlob('refs/heads/main', 'refs/heads/mainline'), false);
});

test('the watched branch and the excluded refs are never previewed', () => {
  const heads = new Map([
    ['refs/heads/main', 'a'],
    ['refs/heads/feature', 'b'],
    ['refs/heads/release-1', 'c'],
    ['refs/pull/3/head', 'd'],
    ['refs/tags/v1', 'e'],
  ]);
  const kept = previewedRefs(heads, { refs: ['refs/heads/*', 'refs/pull/*/head'], exclude: ['refs/heads/release-*'] }, 'main');
  assert.deepEqual([...kept.keys()].sort(), ['refs/heads/feature', 'refs/pull/3/head']);
});
