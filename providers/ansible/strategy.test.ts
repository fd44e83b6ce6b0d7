import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Logger, ToolError } from '../../engine/provider-kit.ts';
import { silentLogger } from '../../testkit/providers.ts';
import { DEFAULT_ANSIBLE_SETTINGS } from './settings.ts';
import { chooseStrategy, interpreterOf, mitogenStrategyFor, strategyEnv } from './strategy.ts';

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
  assert.deepEqual(strategyEnv({ connectTimeoutMs: 10_000, mitogenConnectTimeoutMs: 90_000 }, { strategyPlugins: '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy', strategy: 'mitogen_linear' }), {
    ANSIBLE_STRATEGY_PLUGINS: '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy',
    ANSIBLE_STRATEGY: 'mitogen_linear',
    ANSIBLE_TIMEOUT: '90',
  });
});

test("under mitogen, the strategy the repository's ansible.cfg chose keeps its order of tasks and hosts", () => {
  assert.equal(mitogenStrategyFor(undefined), 'mitogen_linear');
  assert.equal(mitogenStrategyFor(''), 'mitogen_linear');
  assert.equal(mitogenStrategyFor('linear'), 'mitogen_linear');
  assert.equal(mitogenStrategyFor('free'), 'mitogen_free');
  assert.equal(mitogenStrategyFor(' ansible.builtin.host_pinned '), 'mitogen_host_pinned');
  assert.equal(mitogenStrategyFor('mitogen_free'), 'mitogen_free');
  // None of mitogen's: Ansible runs them as configured.
  assert.equal(mitogenStrategyFor('debug'), null);
  assert.equal(mitogenStrategyFor('my_company_strategy'), null);
  assert.equal(mitogenStrategyFor('mitogen_debug'), null);
});

describe('the strategy chosen from the settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-strategy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // An ansible-playbook whose Python does not see the system's packages, as a virtualenv without mitogen would be.
  const withoutMitogen = join(dir, 'ansible-playbook');
  writeFileSync(withoutMitogen, '#!/usr/bin/python3 -S\nraise SystemExit(0)\n');
  chmodSync(withoutMitogen, 0o755);
  const hasMitogen = spawnSync('/usr/bin/python3', ['-c', 'import ansible_mitogen'], { stdio: 'ignore' }).status === 0;

  test('linear is Ansible\'s own, whatever is installed', async () => {
    assert.equal(await chooseStrategy({ playbookBinary: withoutMitogen, strategy: 'linear' }), null);
  });

  test('auto without mitogen falls back to linear and says why, once; an explicit mitogen refuses', async () => {
    const said: unknown[] = [];
    const log: Logger = Object.assign(Object.create(silentLogger) as Logger, { info: (fields: unknown) => said.push(fields) });
    assert.equal(await chooseStrategy({ playbookBinary: withoutMitogen, strategy: 'auto' }, log), null);
    assert.equal(await chooseStrategy({ playbookBinary: withoutMitogen, strategy: 'auto' }, log), null);
    assert.equal(said.length, 1, 'the look is made, and said, once per process');
    assert.match(JSON.stringify(said[0]), /has no ansible_mitogen module/);
    await assert.rejects(chooseStrategy({ playbookBinary: withoutMitogen, strategy: 'mitogen' }), (e: ToolError) => e.code === 'E_ANSIBLE_MITOGEN_MISSING');
  });

  test('auto with an ansible-playbook wrapper that is no Python script, or a shell one, runs linear', async () => {
    const shell = join(dir, 'wrapper');
    writeFileSync(shell, '#!/bin/sh\nexec /usr/bin/ansible-playbook "$@"\n');
    chmodSync(shell, 0o755);
    assert.equal(await chooseStrategy({ playbookBinary: shell, strategy: 'auto' }), null);
    const binary = join(dir, 'binary');
    writeFileSync(binary, '\x7fELF');
    chmodSync(binary, 0o755);
    assert.equal(await chooseStrategy({ playbookBinary: binary, strategy: 'auto' }), null);
  });

  test('auto with mitogen installed takes its strategy plugins', { skip: hasMitogen ? false : 'ansible-mitogen is not installed' }, async () => {
    const plugins = await chooseStrategy({ playbookBinary: '/usr/bin/ansible-playbook', strategy: 'auto' });
    assert.match(plugins?.strategyPlugins ?? '', /ansible_mitogen\/plugins\/strategy$/);
  });
});
