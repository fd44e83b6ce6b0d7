import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeConfig } from '../config/load.ts';

// The forge: section through the config loader: defaults, paths, and the checks a type cannot make.

const base = { source: { url: 'file:///srv/infra.git' } };
const load = (forge: unknown) => normalizeConfig({ ...base, forge }, '/etc/plumbline/plumbline.yaml');
const messages = (forge: unknown) => load(forge).problems.map((p) => p.message);

test('a forge section is normalized: paths made absolute, a trailing slash dropped, no webhooks by default', () => {
  const { config, problems } = load({ type: 'gitlab', url: 'https://gitlab.example.com/', repository: 'acme/platform/infra', tokenFile: 'forge-token' });
  assert.deepEqual(problems, []);
  assert.deepEqual(config!.forge, { type: 'gitlab', url: 'https://gitlab.example.com', repository: 'acme/platform/infra', tokenFile: '/etc/plumbline/forge-token', webhookSecretFile: null });
  assert.equal(normalizeConfig(base, null).config!.forge, undefined, 'absent: no forge');
});

test('http:// only on loopback; no credentials or query in the URL', () => {
  assert.deepEqual(messages({ type: 'github', url: 'http://127.0.0.1:8080', repository: 'a/b', tokenFile: 't' }), []);
  assert.match(messages({ type: 'github', url: 'http://github.example.com', repository: 'a/b', tokenFile: 't' })[0]!, /forge\.url: must be an https:\/\/ URL/);
  assert.match(messages({ type: 'github', url: 'https://bot:pw@github.example.com', repository: 'a/b', tokenFile: 't' })[0]!, /must not hold credentials/);
  assert.match(messages({ type: 'gitea', url: 'https://gitea.example.com/?token=x', repository: 'a/b', tokenFile: 't' })[0]!, /without a query/);
});

test('the repository is owner/name (GitLab: a project path of any depth); the type is one of three', () => {
  assert.match(messages({ type: 'github', url: 'https://api.github.com', repository: 'acme/platform/infra', tokenFile: 't' })[0]!, /forge\.repository: must be owner\/name/);
  assert.match(messages({ type: 'gitlab', url: 'https://gitlab.com', repository: 'infra', tokenFile: 't' })[0]!, /must be the project path/);
  assert.match(messages({ type: 'bitbucket', url: 'https://api.bitbucket.org', repository: 'a/b', tokenFile: 't' }).join('\n'), /forge\.type/);
  assert.match(messages({ type: 'github', url: 'https://api.github.com', repository: 'a/b' }).join('\n'), /forge\.tokenFile/);
});
