import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ANSIBLE_SETTINGS } from './settings.ts';
import { interpreterOf, strategyEnv } from './strategy.ts';

test('the interpreter of a Python script: direct, through env, with arguments', () => {
  assert.deepEqual(interpreterOf('#! /usr/bin/python3\nimport sys\n'), ['/usr/bin/python3']);
  assert.deepEqual(interpreterOf('#!/usr/bin/env python3\n'), ['python3']);
  assert.deepEqual(interpreterOf('#!/usr/bin/env -S python3 -E\n'), ['python3', '-E']);
  assert.deepEqual(interpreterOf('#!/opt/ansible/bin/python -S\n'), ['/opt/ansible/bin/python', '-S']);
  assert.equal(interpreterOf('\x7fELF...'), null);
  assert.equal(interpreterOf(''), null);
});

test('linear keeps Ansible\'s strategy and the connect timeout; mitogen sets its plugins and its own longer timeout', () => {
  assert.deepEqual(strategyEnv(DEFAULT_ANSIBLE_SETTINGS, null), { ANSIBLE_TIMEOUT: '10' });
  assert.deepEqual(strategyEnv({ connectTimeoutMs: 10_000, mitogenConnectTimeoutMs: 90_000 }, { strategyPlugins: '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy' }), {
    ANSIBLE_STRATEGY_PLUGINS: '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy',
    ANSIBLE_STRATEGY: 'mitogen_linear',
    ANSIBLE_TIMEOUT: '90',
  });
});
