import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeConfig } from '../config/load.ts';

const base = { source: { url: 'file:///srv/infra.git' }, stateDir: '/var/lib/plumbline' };
const load = (sandbox: unknown) => normalizeConfig({ ...base, ...(sandbox === undefined ? {} : { sandbox }) }, '/etc/plumbline/plumbline.yaml');

test('sandbox: auto by default, no grants', () => {
  assert.deepEqual(load(undefined).config?.sandbox, { mode: 'auto', grants: [] });
});

test('sandbox: a mode alone', () => {
  for (const mode of ['auto', 'bwrap', 'off']) assert.deepEqual(load(mode).config?.sandbox, { mode, grants: [] });
});

test('sandbox: the mode and grants, relative paths from the config\'s folder', () => {
  const { config, problems } = load({ mode: 'bwrap', grants: [{ units: ['machines'], writable: ['machines'], readable: ['/etc/plumbline/keys/a'], outlive: true, capabilities: ['CAP_SYS_CHROOT'] }, { units: ['web'] }] });
  assert.deepEqual(problems, []);
  assert.deepEqual(config?.sandbox, {
    mode: 'bwrap',
    grants: [
      { units: ['machines'], readable: ['/etc/plumbline/keys/a'], writable: ['/etc/plumbline/machines'], outlive: true, capabilities: ['CAP_SYS_CHROOT'] },
      { units: ['web'], readable: [], writable: [], outlive: false, capabilities: [] },
    ],
  });
});

test('sandbox: problems named at their field', () => {
  const messages = (sandbox: unknown) => load(sandbox).problems.map((p) => p.message);
  assert.deepEqual(messages('sometimes'), ['sandbox: must be one of auto, bwrap, off, or a mapping with mode and grants (got "sometimes")']);
  assert.deepEqual(messages({ mode: 'strict' }), ['sandbox.mode: must be one of auto, bwrap, off (got "strict")']);
  assert.match(messages({ grant: [] })[0]!, /^sandbox\.grant: unknown field, did you mean "grants"\?/);
  assert.match(messages({ grants: [{ units: ['a'], capabilities: ['setuid'] }] })[0]!, /^sandbox\.grants\[0\]\.capabilities\[0\]: /);
  assert.match(messages({ grants: [{ readable: ['/x'] }] })[0]!, /^sandbox\.grants\[0\]\.units: required field is missing/);
  assert.deepEqual(messages({ grants: [{ units: ['a'], writable: ['/'] }] }), ['sandbox.grants[0].writable[0]: grants the whole file system; name the folders the units need']);
});
