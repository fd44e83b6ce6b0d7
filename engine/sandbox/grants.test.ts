import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grantsFor, isGranted, sandboxFor } from './grants.ts';
import type { SandboxSettings } from './types.ts';

const settings: SandboxSettings = {
  mode: 'auto',
  grants: [
    { units: ['machines'], readable: [], writable: ['/srv/machines'], outlive: true, capabilities: ['CAP_SETUID'] },
    { units: ['prod/*'], readable: ['/etc/plumbline/keys/prod'], writable: [], outlive: false, capabilities: [] },
    { units: ['prod/web'], readable: ['/home/plumbline/.aws'], writable: [], outlive: false, capabilities: ['CAP_SETUID', 'CAP_SETGID'] },
  ],
};

test('grants apply to the units their globs name, nested names included', () => {
  assert.equal(grantsFor(settings, 'machines').length, 1);
  assert.equal(grantsFor(settings, 'prod/web').length, 2);
  assert.equal(grantsFor(settings, 'prod/db').length, 1);
  assert.equal(grantsFor(settings, 'prod').length, 0);
  assert.equal(grantsFor(settings, 'staging/web').length, 0);
  assert.equal(grantsFor(settings, null).length, 0, 'a process of no unit gets no grant');
});

test('a unit\'s sandbox: what its tool needs plus its grants, each path once', () => {
  const spec = sandboxFor(settings, 'prod/web', { readOnly: ['/run/tree', null, undefined, ''], readWrite: ['/run/tree/prod/web', '/run/tree/prod/web'] });
  assert.deepEqual(spec, {
    mode: 'auto',
    readOnly: ['/run/tree', '/etc/plumbline/keys/prod', '/home/plumbline/.aws'],
    readWrite: ['/run/tree/prod/web'],
    capabilities: ['CAP_SETUID', 'CAP_SETGID'],
  });
  assert.deepEqual(sandboxFor(settings, 'machines', {}), { mode: 'auto', readOnly: [], readWrite: ['/srv/machines'], outlive: true, capabilities: ['CAP_SETUID'] });
  assert.deepEqual(sandboxFor(settings, 'other', { readOnly: ['/x'] }), { mode: 'auto', readOnly: ['/x'], readWrite: [] });
});

test('a path the repository names is granted only below a folder granted to that unit', () => {
  assert.equal(isGranted(settings, 'prod/db', '/etc/plumbline/keys/prod/id_ed25519'), true);
  assert.equal(isGranted(settings, 'prod/db', '/etc/plumbline/keys/prod'), true);
  assert.equal(isGranted(settings, 'prod/db', '/etc/plumbline/keys/production/id'), false);
  assert.equal(isGranted(settings, 'staging/db', '/etc/plumbline/keys/prod/id_ed25519'), false);
  assert.equal(isGranted(settings, 'machines', '/srv/machines/web-1/key'), true);
});
