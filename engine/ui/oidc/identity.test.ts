import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTokenName } from '../../auth/tokens.ts';
import { groupsOf, oidcActorName, roleOf, userNameOf } from './identity.ts';

const roles = { admin: ['platform-admins'], approver: ['sre', 'platform'], viewer: ['engineering'] };

test('the highest role one of the groups is listed under', () => {
  assert.equal(roleOf(['engineering'], roles), 'viewer');
  assert.equal(roleOf(['engineering', 'sre'], roles), 'approver');
  assert.equal(roleOf(['platform', 'platform-admins', 'engineering'], roles), 'admin');
  assert.equal(roleOf(['platform'], roles), 'approver');
});

test('no listed group, no role', () => {
  assert.equal(roleOf([], roles), undefined);
  assert.equal(roleOf(['marketing', 'SRE'], roles), undefined, 'group names are compared exactly');
  assert.equal(roleOf(['sre'], { admin: [], approver: [], viewer: [] }), undefined);
});

test('a group listed under two roles gives the higher one', () => {
  assert.equal(roleOf(['ops'], { admin: ['ops'], approver: [], viewer: ['ops'] }), 'admin');
});

test('the groups of the role claim: a list, or one string; anything else is none', () => {
  assert.deepEqual(groupsOf({ groups: ['sre', 'eng'] }, 'groups'), ['sre', 'eng']);
  assert.deepEqual(groupsOf({ roles: 'sre' }, 'roles'), ['sre']);
  assert.deepEqual(groupsOf({ groups: ['sre', 7, null, '', { name: 'x' }] }, 'groups'), ['sre']);
  assert.deepEqual(groupsOf({ groups: { sre: true } }, 'groups'), []);
  assert.deepEqual(groupsOf({}, 'groups'), []);
  assert.deepEqual(groupsOf({ 'https://example.com/groups': ['sre'] }, 'https://example.com/groups'), ['sre'], 'a namespaced claim is one name, dots and all');
});

test('the user name: preferred_username, else name, else sub, cleaned of control characters', () => {
  assert.equal(userNameOf({ sub: 'u-1', name: 'Alice Liddell', preferred_username: 'alice' }), 'alice');
  assert.equal(userNameOf({ sub: 'u-1', name: 'Alice  Liddell' }), 'Alice Liddell');
  assert.equal(userNameOf({ sub: 'u-1', preferred_username: '  ' }), 'u-1');
  assert.equal(userNameOf({ sub: 'u-1', preferred_username: 'eve\n{"level":60}\u202e' }), 'eve {"level":60}');
  assert.equal(userNameOf({ preferred_username: 'x'.repeat(500) }).length, 128);
});

test('an OpenID actor is marked, and no token name can look like one', () => {
  assert.equal(oidcActorName('alice'), 'alice (oidc)');
  assert.notEqual(checkTokenName(oidcActorName('alice')), undefined);
});
