import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasRole, mayDecideOn, requireRole, requireUnits, unitsOutside } from './roles.ts';
import type { Actor } from './types.ts';

const viewer: Actor = { name: 'dana', role: 'viewer' };
const approver: Actor = { name: 'ci', role: 'approver', units: ['prod/*', 'shared'] };
const admin: Actor = { name: 'root', role: 'admin' };

test('each role may do what the roles before it may', () => {
  assert.deepEqual([hasRole(viewer, 'viewer'), hasRole(viewer, 'approver'), hasRole(viewer, 'admin')], [true, false, false]);
  assert.deepEqual([hasRole(approver, 'viewer'), hasRole(approver, 'approver'), hasRole(approver, 'admin')], [true, true, false]);
  assert.deepEqual([hasRole(admin, 'viewer'), hasRole(admin, 'approver'), hasRole(admin, 'admin')], [true, true, true]);
});

test('a refusal names the token, its role and the role needed', () => {
  assert.doesNotThrow(() => requireRole(approver, 'approver', 'approve plans'));
  assert.throws(() => requireRole(viewer, 'approver', 'approve plans'), (error: { code: string; message: string; hint: string }) => {
    assert.equal(error.code, 'E_FORBIDDEN');
    assert.equal(error.message, 'token dana (viewer) may not approve plans: that needs the approver role');
    assert.match(error.hint, /plumbline token create NAME --role approver/);
    return true;
  });
});

test('unit globs: `prod/*` matches the units under prod, a bare name only itself; no globs match every unit', () => {
  assert.ok(mayDecideOn(approver, 'prod/vpc'));
  assert.ok(mayDecideOn(approver, 'shared'));
  assert.ok(!mayDecideOn(approver, 'prod/eu/vpc'));
  assert.ok(!mayDecideOn(approver, 'production'));
  assert.ok(!mayDecideOn(approver, 'dev/vpc'));
  assert.ok(mayDecideOn({ units: ['prod/**'] }, 'prod/eu/vpc'));
  assert.ok(mayDecideOn(admin, 'anything/at/all'));
  assert.deepEqual(unitsOutside(approver, ['prod/vpc', 'dev/app', 'shared', 'web']), ['dev/app', 'web']);
});

test('a refusal on units names the units the token lacks', () => {
  assert.doesNotThrow(() => requireUnits(approver, ['prod/vpc', 'shared'], 'approve plans'));
  assert.throws(() => requireUnits(approver, ['prod/vpc', 'dev/app', 'web'], 'approve change set cs-1'), (error: { code: string; message: string; details: unknown }) => {
    assert.equal(error.code, 'E_FORBIDDEN');
    assert.equal(error.message, 'token ci may approve change set cs-1 only on units matching prod/*, shared; not on dev/app, web');
    assert.deepEqual(error.details, { units: ['dev/app', 'web'] });
    return true;
  });
});
