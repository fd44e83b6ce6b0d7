import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatProblem, type ValidationError } from '../../errors.ts';
import { loadConfig, normalizeConfig } from '../../config/load.ts';

const source = { url: '/srv/infra' };
const oidc = { issuer: 'https://login.example.com/realms/ops', clientId: 'plumbline', clientSecretFile: 'oidc-secret', roles: { approver: ['sre'] } };

function problemsOf(raw: Record<string, unknown>): string[] {
  return normalizeConfig({ source, ...raw }, '/etc/plumbline/plumbline.yaml').problems.map((p) => p.message);
}

test('auth.oidc: defaults filled in, the secret file resolved against the config folder', () => {
  const { config, problems } = normalizeConfig({ source, auth: { oidc } }, '/etc/plumbline/plumbline.yaml');
  assert.deepEqual(problems, []);
  assert.deepEqual(config?.auth, {
    oidc: {
      issuer: 'https://login.example.com/realms/ops',
      clientId: 'plumbline',
      clientSecretFile: '/etc/plumbline/oidc-secret',
      scopes: ['openid', 'profile', 'email', 'groups'],
      roleClaim: 'groups',
      roles: { admin: [], approver: ['sre'], viewer: [] },
    },
  });
  assert.equal(config?.api.publicUrl, null);
});

test('auth.oidc: every field can be given; api.publicUrl is kept as its origin', () => {
  const { config, problems } = normalizeConfig(
    {
      source,
      api: { listen: '0.0.0.0:7420', allowRemote: true, publicUrl: 'https://plumbline.example.com/' },
      auth: { oidc: { ...oidc, scopes: ['openid', 'profile', 'groups'], roleClaim: 'roles', roles: { admin: ['ops-admins'], approver: ['ops'], viewer: ['eng'] } } },
    },
    '/etc/plumbline/plumbline.yaml',
  );
  assert.deepEqual(problems, []);
  assert.equal(config?.api.publicUrl, 'https://plumbline.example.com');
  assert.deepEqual(config?.auth?.oidc?.scopes, ['openid', 'profile', 'groups']);
  assert.equal(config?.auth?.oidc?.roleClaim, 'roles');
  assert.deepEqual(config?.auth?.oidc?.roles, { admin: ['ops-admins'], approver: ['ops'], viewer: ['eng'] });
});

test('auth.oidc: an empty section is no section', () => {
  assert.deepEqual(normalizeConfig({ source, auth: null }, null).config?.auth, { oidc: null });
  assert.deepEqual(normalizeConfig({ source, auth: { oidc: null } }, null).config?.auth, { oidc: null });
});

test('auth.oidc: required fields, unknown keys and unknown roles are refused, naming the field', () => {
  const messages = problemsOf({ auth: { oidc: { issuer: 'https://login.example.com', roles: { approvers: ['sre'] }, clientSecret: 'x' } } }).join('\n');
  assert.match(messages, /auth\.oidc\.clientId: /);
  assert.match(messages, /auth\.oidc\.clientSecretFile: /);
  assert.match(messages, /auth\.oidc\.clientSecret: unknown field.*clientSecretFile/);
  assert.match(messages, /auth\.oidc\.roles\.approvers: unknown field.*approver/);
});

test('auth.oidc: the issuer is https (http only on loopback), scopes hold openid, roles name a group', () => {
  assert.deepEqual(problemsOf({ auth: { oidc: { ...oidc, issuer: 'http://127.0.0.1:9000' } } }), []);
  assert.deepEqual(problemsOf({ auth: { oidc: { ...oidc, issuer: 'http://login.example.com' } } }), [
    'auth.oidc.issuer: must be an https:// URL (http:// only on a loopback address) (got http://login.example.com)',
  ]);
  assert.deepEqual(problemsOf({ auth: { oidc: { ...oidc, scopes: ['profile', 'groups'] } } }), [
    'auth.oidc.scopes: must include openid, or the provider answers no ID token (got profile, groups)',
  ]);
  assert.deepEqual(problemsOf({ auth: { oidc: { ...oidc, roles: { admin: [], viewer: null } } } }), [
    'auth.oidc.roles: names no group: list the groups of at least one of viewer, approver, admin, e.g. approver: [sre]; nobody could log in',
  ]);
});

test('api.publicUrl: an https origin (http on loopback); needed by auth.oidc when the API listens beyond loopback', () => {
  assert.deepEqual(problemsOf({ api: { publicUrl: 'http://127.0.0.1:7420' } }), []);
  assert.deepEqual(problemsOf({ api: { publicUrl: 'http://plumbline.example.com' } }), [
    'api.publicUrl: must be an https:// URL (http:// only on a loopback address) (got http://plumbline.example.com)',
  ]);
  assert.deepEqual(problemsOf({ api: { publicUrl: 'https://example.com/plumbline' } }), [
    'api.publicUrl: must be an origin alone, e.g. https://plumbline.example.com: the UI is served at / (got "https://example.com/plumbline")',
  ]);
  assert.deepEqual(problemsOf({ api: { listen: '10.0.0.5:7420', allowRemote: true }, auth: { oidc } }), [
    'auth.oidc: needs api.publicUrl: the URL people open the UI at, which the provider sends them back to (e.g. https://plumbline.example.com)',
  ]);
});

const scratch = await mkdtemp(join(tmpdir(), 'plumbline-oidc-config-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('problems in the file point at the line of the field', async () => {
  const file = join(scratch, 'plumbline.yaml');
  await writeFile(
    file,
    ['source:', '  url: /srv/infra', 'auth:', '  oidc:', '    issuer: http://login.example.com', '    clientId: plumbline', '    clientSecretFile: secret', '    roles:', '      approver: [sre]', ''].join('\n'),
  );
  await assert.rejects(loadConfig(file), (error: ValidationError) => {
    assert.deepEqual(error.problems.map(formatProblem), [`${file}:5:5: auth.oidc.issuer: must be an https:// URL (http:// only on a loopback address) (got http://login.example.com)`]);
    return true;
  });
});
