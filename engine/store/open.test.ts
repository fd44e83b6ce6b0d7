import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retentionCutoffs } from './open.ts';

const now = new Date('2027-06-01T00:00:00.000Z');
const daysBefore = (days: number) => new Date(now.getTime() - days * 86_400_000);

test('retention cutoffs: 90 days of plans and 400 days of history unless the config says otherwise', () => {
  assert.deepEqual(retentionCutoffs(undefined, now), { plansBefore: daysBefore(90), historyBefore: daysBefore(400) });
  assert.deepEqual(retentionCutoffs({ retention: { plansMs: 7 * 86_400_000 } }, now), { plansBefore: daysBefore(7), historyBefore: daysBefore(400) });
});

test('retention off keeps everything: the cutoff is the epoch', () => {
  assert.deepEqual(retentionCutoffs({ retention: { plansMs: null, historyMs: null } }, now), { plansBefore: new Date(0), historyBefore: new Date(0) });
});
