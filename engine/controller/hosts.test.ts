import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeHosts } from './hosts.ts';

test('hosts outside a limited run keep their last known state', () => {
  const known = [
    { name: 'web-1', state: 'ok' as const },
    { name: 'web-2', state: 'changed' as const, message: 'changes: motd' },
    { name: 'web-3', state: 'unreachable' as const, message: 'connection refused' },
  ];
  const run = [
    { name: 'web-1', state: 'skipped' as const, message: 'not in this run' },
    { name: 'web-2', state: 'ok' as const },
    { name: 'web-3', state: 'skipped' as const, message: 'not in this run' },
  ];
  assert.deepEqual(mergeHosts(known, run, ['web-2']), [known[0], { name: 'web-2', state: 'ok' }, known[2]]);
  // An unlimited run says everything about every host.
  assert.deepEqual(mergeHosts(known, run, undefined), run);
});
