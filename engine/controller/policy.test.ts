import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unitForFile } from './affected.ts';
import { planId } from './plan-id.ts';
import { decide } from './policy.ts';
import type { UnitDefinition } from '../definitions/types.ts';

const now = new Date('2026-01-01T00:00:00Z');

test('a plan without changes never waits, whatever the policy', () => {
  for (const approval of ['auto', 'manual', 'auto-unless-destroy'] as const) {
    assert.deepEqual(decide({ hasChanges: false, destructive: false, approval, applyAfterMs: 60_000, now }), { action: 'in-sync' });
  }
});

test('auto applies at once; manual waits', () => {
  assert.equal(decide({ hasChanges: true, destructive: true, approval: 'auto', applyAfterMs: null, now }).action, 'apply-now');
  assert.equal(decide({ hasChanges: true, destructive: false, approval: 'manual', applyAfterMs: null, now }).action, 'await-approval');
});

test('auto-unless-destroy waits only for destructive plans, even with a review window', () => {
  assert.equal(decide({ hasChanges: true, destructive: false, approval: 'auto-unless-destroy', applyAfterMs: null, now }).action, 'apply-now');
  assert.equal(decide({ hasChanges: true, destructive: true, approval: 'auto-unless-destroy', applyAfterMs: 1000, now }).action, 'await-approval');
});

test('a review window delays an automatic apply', () => {
  const d = decide({ hasChanges: true, destructive: false, approval: 'auto', applyAfterMs: 600_000, now });
  assert.deepEqual(d, { action: 'review-window', applyAt: new Date('2026-01-01T00:10:00Z') });
});

test('a guard holds a plan that passes its limits for a person, whatever the policy, naming the limit', () => {
  const base = { hasChanges: true, destructive: true, approval: 'auto' as const, applyAfterMs: null, now };
  assert.deepEqual(decide({ ...base, guard: { maxDestroy: 2 }, destroys: 3 }), {
    action: 'await-approval',
    reason: 'GuardExceeded',
    message: "the plan destroys or replaces 3, more than guard.maxDestroy (2): approve the plan to apply it, whatever the unit's approval policy",
  });
  assert.equal(decide({ ...base, guard: { maxDestroy: 2 }, destroys: 2 }).action, 'apply-now');
  const hosts = decide({ ...base, destructive: false, guard: { maxHosts: 5 }, hostsChanged: 6 });
  assert.equal(hosts.action === 'await-approval' && hosts.message.startsWith('the plan changes 6 hosts, more than guard.maxHosts (5)'), true);
  assert.equal(decide({ ...base, hasChanges: false, guard: { maxDestroy: 0 }, destroys: 0 }).action, 'in-sync');
});

test('plan ids change with any of their parts and are stable otherwise', () => {
  const base = { unit: 'web', revision: 'a'.repeat(40), inputsHash: 'i', fingerprint: 'f' };
  assert.equal(planId(base), planId({ ...base }));
  assert.match(planId(base), /^web-aaaaaaaa-[0-9a-f]{10}$/);
  // A nested unit's id is one URL path segment.
  assert.match(planId({ ...base, unit: 'prod/vpc' }), /^prod~vpc-aaaaaaaa-[0-9a-f]{10}$/);
  assert.notEqual(planId(base), planId({ ...base, fingerprint: 'g' }));
  assert.notEqual(planId(base), planId({ ...base, inputsHash: 'j' }));
});

test('a file belongs to the unit whose folder holds it', () => {
  const units = [{ name: 'a', path: 'stacks/a' }, { name: 'ab', path: 'stacks/ab' }, { name: 'inv', path: 'inventories/inv' }] as UnitDefinition[];
  assert.equal(unitForFile('inventories/inv/group_vars/all.yml', units), 'inv');
  assert.equal(unitForFile('stacks/a/stack.yaml', units), 'a');
  assert.equal(unitForFile('stacks/abc/stack.yaml', units), undefined);
});
