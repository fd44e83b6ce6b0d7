import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { silentLogger, testConfig } from '../../testkit/providers.ts';
import { settingsOf } from '../../engine/provider-kit.ts';
import { effectiveSettings, terraformSettingsPart } from './settings.ts';

test('terraform: settings, as the config gives them, paths against its folder', () => {
  const config = testConfig({ source: { url: '/srv/infra' }, terraform: { binary: './bin/tofu', cliConfigFile: 'rc', timeout: '5m' } });
  assert.deepEqual(settingsOf(config, terraformSettingsPart), { binary: resolve('bin/tofu'), cliConfigFile: resolve('rc'), timeoutMs: 300_000 });
  assert.deepEqual(settingsOf({}, terraformSettingsPart), { binary: 'terraform', cliConfigFile: null, timeoutMs: 1_800_000 });
});

test('without cliConfigFile, the daemon\'s TF_CLI_CONFIG_FILE is made absolute: terraform runs in a workspace where a relative path names nothing', () => {
  const defaults = terraformSettingsPart.defaults;
  assert.equal(effectiveSettings(defaults, silentLogger, { TF_CLI_CONFIG_FILE: 'terraformrc' }).cliConfigFile, resolve('terraformrc'));
  assert.equal(effectiveSettings(defaults, silentLogger, {}).cliConfigFile, null);
  const configured = { ...defaults, cliConfigFile: '/etc/plumbline/terraformrc' };
  assert.equal(effectiveSettings(configured, silentLogger, { TF_CLI_CONFIG_FILE: '/elsewhere' }).cliConfigFile, '/etc/plumbline/terraformrc');
});
