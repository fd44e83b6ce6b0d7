import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredPlan } from '../types.ts';
import { planFromRow, planRow } from './rows.ts';

const plan = { id: 'p1', unit: 'web', status: 'Pending', createdAt: '2025-01-01T00:00:00.000Z', runId: 'r1', purpose: 'drift' } as unknown as StoredPlan;

test('a plan limited to some targets reads back as written', () => {
  const row = planRow({ ...plan, targets: ['web-2'] });
  assert.deepEqual(planFromRow({ record: String(row.record) }).targets, ['web-2']);
});

test('a plan stored before targets had its name (limitHosts) reads with targets', () => {
  const read = planFromRow({ record: JSON.stringify({ ...plan, limitHosts: ['web-2'] }) });
  assert.deepEqual(read.targets, ['web-2']);
  assert.equal('limitHosts' in read, false);
  assert.equal('targets' in planFromRow({ record: JSON.stringify(plan) }), false);
});
