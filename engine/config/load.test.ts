import { hostname } from 'node:os';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatProblem, PlumblineError, ValidationError } from '../errors.ts';
import { loadConfig, normalizeConfig } from './load.ts';
import type { DaemonConfig } from './types.ts';

const scratch = await mkdtemp(join(tmpdir(), 'plumbline-config-'));
after(() => rm(scratch, { recursive: true, force: true }));

/** A provider's section as the loader normalized it (the engine keeps it opaque). */
function section(config: DaemonConfig | undefined, key: string): Record<string, unknown> | undefined {
  return config?.providers?.[key] as Record<string, unknown> | undefined;
}

async function configFile(text: string): Promise<string> {
  const file = join(scratch, `plumbline-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, text);
  return file;
}

test('a minimal config gets every default', async () => {
  const file = await configFile('source:\n  url: file:///srv/infra.git\n');
  assert.deepEqual(await loadConfig(file), {
    file,
    source: { url: 'file:///srv/infra.git', branch: 'main', intervalMs: 60_000, verify: { mode: 'off', allowedSigners: null, keyring: null, allCommits: false } },
    stateDir: '/var/lib/plumbline',
    api: { host: '127.0.0.1', port: 7420, tokenFile: '/var/lib/plumbline/api-token', allowRemote: false, publicUrl: null },
    concurrency: 4,
    providers: {
      terraform: { binary: 'terraform', cliConfigFile: null, timeoutMs: 1_800_000 },
      ansible: {
        playbookBinary: 'ansible-playbook',
        inventoryBinary: 'ansible-inventory',
        vaultBinary: 'ansible-vault',
        vaultPasswordFile: null,
        privateKeyFile: null,
        maxForks: 20,
        timeoutMs: 1_800_000,
        connectTimeoutMs: 10_000,
        controlPersistMs: 60_000,
        pipelining: true,
        recheckHostsAfterMs: 30_000,
        strategy: 'auto',
        mitogenConnectTimeoutMs: 60_000,
      },
    },
    defaults: { approval: 'auto-unless-destroy', applyAfterMs: null, drift: { intervalMs: 900_000, action: 'report', unknownTasks: 'ignore' } },
    notifications: [],
    log: { level: 'info' },
    metrics: { requireToken: false },
    limits: { manifestBytes: 1_048_576 },
    cluster: { name: hostname(), leaseTtlMs: 30_000 },
    store: { url: null, passwordFile: null, sealingKeyFile: null, retention: { plansMs: 90 * 86_400_000, historyMs: 400 * 86_400_000 } },
    sandbox: { mode: 'auto', grants: [] },
    auth: { oidc: null },
  });
});

test('relative paths are relative to the config file’s folder', () => {
  const { config, problems } = normalizeConfig(
    {
      source: { url: '../infra' },
      stateDir: 'state',
      api: { tokenFile: 'token' },
      terraform: { binary: './bin/tofu', cliConfigFile: 'terraformrc' },
    },
    '/etc/plumbline/plumbline.yaml',
  );
  assert.deepEqual(problems, []);
  assert.equal(config?.source.url, '/etc/infra');
  assert.equal(config?.stateDir, '/etc/plumbline/state');
  assert.equal(config?.api.tokenFile, '/etc/plumbline/token');
  assert.equal(section(config, 'terraform')?.binary, '/etc/plumbline/bin/tofu');
  assert.equal(section(config, 'terraform')?.cliConfigFile, '/etc/plumbline/terraformrc');
});

test('the token file defaults to the state folder, and a bare binary stays a PATH lookup', () => {
  const { config } = normalizeConfig({ source: { url: '/srv/infra' }, stateDir: '/data', terraform: { binary: 'tofu' } }, null);
  assert.equal(config?.api.tokenFile, '/data/api-token');
  assert.equal(section(config, 'terraform')?.binary, 'tofu');
  assert.equal(config?.file, null);
});

test('every setting can be given', () => {
  const { config, problems } = normalizeConfig(
    {
      source: { url: 'ssh://git@example.com/org/infra.git', branch: 'release/v2', interval: '5m' },
      api: { listen: '[::1]:9000' },
      concurrency: 64,
      terraform: { timeout: '1h' },
      defaults: { approval: 'manual', applyAfter: '10m', drift: { interval: 'off', action: 'remediate' } },
      notifications: [{ url: 'https://hooks.example.com/T1/B2' }, { url: 'http://127.0.0.1:9000/relay', events: ['failed', 'drift-detected'] }],
      log: { level: 'debug' },
      metrics: { requireToken: true },
    },
    '/etc/plumbline/plumbline.yaml',
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(config?.source, {
    url: 'ssh://git@example.com/org/infra.git',
    branch: 'release/v2',
    intervalMs: 300_000,
    verify: { mode: 'off', allowedSigners: null, keyring: null, allCommits: false },
  });
  assert.deepEqual([config?.api.host, config?.api.port], ['::1', 9000]);
  assert.equal(config?.concurrency, 64);
  assert.equal(section(config, 'terraform')?.timeoutMs, 3_600_000);
  assert.deepEqual(config?.defaults, { approval: 'manual', applyAfterMs: 600_000, drift: { intervalMs: null, action: 'remediate', unknownTasks: 'ignore' } });
  assert.deepEqual(config?.notifications, [
    { url: 'https://hooks.example.com/T1/B2', events: ['awaiting-approval', 'applied', 'failed', 'drift-detected', 'remediated'] },
    { url: 'http://127.0.0.1:9000/relay', events: ['failed', 'drift-detected'] },
  ]);
  assert.equal(config?.log.level, 'debug');
  assert.deepEqual(config?.metrics, { requireToken: true });
});

test('webhooks must be https, or http on loopback; events must be known', () => {
  const { problems } = normalizeConfig(
    { source: { url: '/srv/infra' }, notifications: [{ url: 'http://hooks.example.com/x' }, { url: 'https://ok.example.com', events: ['deployed'] }] },
    null,
  );
  assert.equal(problems.length, 2);
  assert.match(problems.map((p) => p.message).join('\n'), /notifications\[0\]\.url: must be an https:\/\/ URL/);
  assert.match(problems.map((p) => p.message).join('\n'), /awaiting-approval, applied, failed, drift-detected, remediated/);
});

test('applyAfter 0s means no review window', () => {
  const { config } = normalizeConfig({ source: { url: '/srv/infra' }, defaults: { applyAfter: '0s' } }, null);
  assert.equal(config?.defaults.applyAfterMs, null);
});

test('empty sections are allowed and take the defaults', async () => {
  const file = await configFile('source:\n  url: https://git.example.com/infra.git\napi:\nterraform:\n');
  const config = await loadConfig(file);
  assert.equal(config.api.port, 7420);
  assert.equal(section(config, 'terraform')?.binary, 'terraform');
});

test('listening beyond loopback needs allowRemote', () => {
  const refused = normalizeConfig({ source: { url: '/srv/infra' }, api: { listen: '10.0.0.5:7420' } }, null);
  assert.equal(refused.config, undefined);
  assert.match(refused.problems[0]?.message ?? '', /^api\.listen: 10\.0\.0\.5:7420 accepts connections from other hosts; set api\.allowRemote: true/);
  const allowed = normalizeConfig({ source: { url: '/srv/infra' }, api: { listen: '0.0.0.0:7420', allowRemote: true } }, null);
  assert.deepEqual([allowed.config?.api.host, allowed.config?.api.allowRemote], ['0.0.0.0', true]);
});

test('loopback addresses and port 0 (any free port) are accepted', () => {
  for (const listen of ['127.0.0.1:0', 'localhost:7420', '127.1.2.3:80', '[::1]:7420']) {
    assert.deepEqual(normalizeConfig({ source: { url: '/srv/infra' }, api: { listen } }, null).problems, [], listen);
  }
});

test('malformed listen addresses are refused', () => {
  for (const listen of ['7420', '127.0.0.1', '127.0.0.1:70000', '::1:7420', '[nothost]:1', ':7420']) {
    assert.equal(normalizeConfig({ source: { url: '/srv/infra' }, api: { listen } }, null).problems.length, 1, listen);
  }
});

test('source URLs: file, ssh, https and local paths only', () => {
  const check = (url: string) => normalizeConfig({ source: { url } }, '/etc/p/plumbline.yaml').problems.map((p) => p.message);
  assert.deepEqual(check('file:///srv/infra.git'), []);
  assert.deepEqual(check('https://git.example.com/infra.git'), []);
  assert.deepEqual(check('ssh://git@example.com:2222/infra.git'), []);
  assert.deepEqual(check('/srv/infra'), []);
  assert.match(check('ftp://example.com/infra')[0] ?? '', /must be a file:\/\/, ssh:\/\/ or https:\/\/ URL or a local path/);
  assert.match(check('file://srv/infra.git')[0] ?? '', /needs an absolute path/);
  assert.match(check('git@example.com:org/infra.git')[0] ?? '', /as an ssh:\/\/ URL/);
  assert.match(check('http://example.com/infra.git')[0] ?? '', /use https/);
});

test('branch names that git would refuse, or read as an option, are refused', () => {
  for (const branch of ['-x', 'a..b', 'a b', 'a:b', 'ends/', 'x.lock', 'a@{1}']) {
    assert.equal(normalizeConfig({ source: { url: '/srv/infra', branch } }, null).problems.length, 1, branch);
  }
});

test('without a locator, problems point at the first line', () => {
  const { problems } = normalizeConfig({ source: { url: '/srv/infra' }, concurrency: 0 }, null);
  assert.deepEqual(problems.map(formatProblem), ['(config):1:1: concurrency: must be at least 1 (got 0)']);
});

test('loadConfig throws one ValidationError with every problem', async () => {
  const file = await configFile('source:\n  url: /srv/infra\n  interval: 0s\nconcurrency: 99\nlog: {level: loud}\n');
  const error = await loadConfig(file).catch((e: unknown) => e);
  assert.ok(error instanceof ValidationError);
  assert.equal(error.code, 'E_VALIDATION');
  assert.deepEqual(
    error.problems.map((p) => `${p.line}:${p.column} ${p.message}`),
    [
      '3:3 source.interval: must be at least 1s (got "0s")',
      '4:1 concurrency: must be at most 64 (got 99)',
      '5:7 log.level: must be one of trace, debug, info, warn, error, fatal (got "loud")',
    ],
  );
  assert.match(error.message, /\(and 2 more\)$/);
});

test('a missing config file is a clear error, not a validation error', async () => {
  const error = await loadConfig(join(scratch, 'nope.yaml')).catch((e: unknown) => e);
  assert.ok(error instanceof PlumblineError && !(error instanceof ValidationError));
  assert.equal(error.code, 'E_CONFIG_READ');
});

test('the ansible section: paths resolved against the config folder, durations parsed, 0s turns ControlPersist off and rechecks hosts before every apply', () => {
  const { config, problems } = normalizeConfig(
    {
      source: { url: '/srv/infra' },
      ansible: {
        playbookBinary: './venv/bin/ansible-playbook',
        inventoryBinary: 'ansible-inventory',
        vaultPasswordFile: 'vault-pass',
        privateKeyFile: '/etc/plumbline/keys/deploy',
        maxForks: 50,
        timeout: '1h',
        connectTimeout: '5s',
        controlPersist: '0s',
        pipelining: false,
        recheckHostsAfter: '0s',
        strategy: 'mitogen',
        mitogenConnectTimeout: '2m',
      },
    },
    '/etc/plumbline/plumbline.yaml',
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(section(config, 'ansible'), {
    playbookBinary: '/etc/plumbline/venv/bin/ansible-playbook',
    inventoryBinary: 'ansible-inventory',
    vaultBinary: 'ansible-vault',
    vaultPasswordFile: '/etc/plumbline/vault-pass',
    privateKeyFile: '/etc/plumbline/keys/deploy',
    maxForks: 50,
    timeoutMs: 3_600_000,
    connectTimeoutMs: 5_000,
    controlPersistMs: null,
    pipelining: false,
    recheckHostsAfterMs: null,
    strategy: 'mitogen',
    mitogenConnectTimeoutMs: 120_000,
  });
});

test('the ansible section is checked like the others: unknown keys, ranges, durations', async () => {
  const file = await configFile(
    'source:\n  url: /srv/infra\nansible:\n  forks: 10\n  maxForks: 0\n  timeout: 500ms\n  controlPersist: soon\n  pipelining: yes please\n',
  );
  const error = await loadConfig(file).catch((e: unknown) => e);
  assert.ok(error instanceof ValidationError);
  assert.deepEqual(
    error.problems.map((p) => `${p.line}:${p.column} ${p.message}`),
    [
      '4:3 ansible.forks: unknown field (allowed: playbookBinary, inventoryBinary, vaultBinary, vaultPasswordFile, privateKeyFile, maxForks, timeout, connectTimeout, controlPersist, pipelining, recheckHostsAfter, strategy, mitogenConnectTimeout)',
      '5:3 ansible.maxForks: must be at least 1 (got 0)',
      '6:3 ansible.timeout: must be at least 1s (got "500ms")',
      '7:3 ansible.controlPersist: invalid duration "soon": use whole numbers with a unit (ms, s, m, h, d), e.g. 500ms, 90s, 10m, 1h30m, 2d',
      '8:3 ansible.pipelining: must be true or false (got "yes please")',
    ],
  );
});

test('the store section: a postgres URL, a password file beside the config, retention as durations or off', () => {
  const { config, problems } = normalizeConfig(
    {
      source: { url: 'file:///srv/infra.git' },
      store: { url: 'postgres://plumbline@db.example.com:5432/plumbline', passwordFile: 'db-password', sealingKeyFile: 'sealing.key', retention: { plans: '30d', history: 'off' } },
    },
    '/etc/plumbline/plumbline.yaml',
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(config?.store, {
    url: 'postgres://plumbline@db.example.com:5432/plumbline',
    passwordFile: '/etc/plumbline/db-password',
    sealingKeyFile: '/etc/plumbline/sealing.key',
    retention: { plansMs: 30 * 86_400_000, historyMs: null },
  });
});

test('the store section is checked: postgres URLs only (never echoed), retention of at least an hour', () => {
  const { problems } = normalizeConfig(
    {
      source: { url: 'file:///srv/infra.git' },
      store: { url: 'mysql://root:hunter22@db/plumbline', retention: { plans: '10m', history: 'forever' } },
    },
    '/etc/plumbline/plumbline.yaml',
  );
  const text = problems.map(formatProblem).join('\n');
  assert.match(text, /store\.url.*must be a postgres:\/\/ URL|must be a postgres:\/\/ URL/);
  assert.doesNotMatch(text, /hunter22/);
  assert.match(text, /must be at least 1h \(got "10m"\)/);
  assert.match(text, /invalid duration "forever".*or off/);
  assert.equal(problems.length, 3);
});

test('source.verify: trust files resolved against the config folder', () => {
  const ssh = normalizeConfig({ source: { url: '/srv/infra', verify: { mode: 'ssh', allowedSigners: 'allowed_signers', allCommits: true } } }, '/etc/plumbline/plumbline.yaml');
  assert.deepEqual(ssh.problems, []);
  assert.deepEqual(ssh.config?.source.verify, { mode: 'ssh', allowedSigners: '/etc/plumbline/allowed_signers', keyring: null, allCommits: true });
  const gpg = normalizeConfig({ source: { url: '/srv/infra', verify: { mode: 'gpg', keyring: '/etc/plumbline/trusted-keys.asc' } } }, '/etc/plumbline/plumbline.yaml');
  assert.deepEqual(gpg.config?.source.verify, { mode: 'gpg', allowedSigners: null, keyring: '/etc/plumbline/trusted-keys.asc', allCommits: false });
  // Off, explicitly, with the files still named: accepted (switching back on is one line).
  assert.deepEqual(normalizeConfig({ source: { url: '/srv/infra', verify: { mode: 'off', allowedSigners: 'a' } } }, null).problems, []);
});

test('source.verify: a mode without its trust file, or a trust file without a mode, is refused', () => {
  const messages = (verify: Record<string, unknown>) => normalizeConfig({ source: { url: '/srv/infra', verify } }, null).problems.map((p) => p.message);
  assert.deepEqual(messages({ mode: 'ssh' }), [
    "source.verify.mode: mode ssh needs source.verify.allowedSigners: the file of trusted keys, in git's allowed-signers format",
  ]);
  assert.deepEqual(messages({ mode: 'gpg', allowedSigners: '/etc/a' }), [
    'source.verify.mode: mode gpg needs source.verify.keyring: a file of the trusted OpenPGP public keys, armored',
  ]);
  assert.deepEqual(messages({ allowedSigners: '/etc/a' }), [
    'source.verify.allowedSigners: is set, but source.verify.mode is not: verification stays off unless mode is ssh or gpg (write mode: off to keep it off)',
  ]);
  assert.match(messages({ mode: 'x509' })[0] ?? '', /source\.verify\.mode: must be one of ssh, gpg, off \(got "x509"\)/);
});
