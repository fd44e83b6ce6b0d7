import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../engine/api/server.ts';
import { AccessControl } from '../engine/auth/access.ts';
import { createGitHook, MAX_HOOK_BYTES } from '../engine/forge/webhook.ts';
import type { ForgeType } from '../engine/forge/types.ts';
import { silentLogger } from '../engine/log.ts';
import { openStore } from '../engine/store/open.ts';
import type { Store } from '../engine/store/types.ts';
import { createFakeEngine, TEST_TOKEN } from '../testkit/fake-engine.ts';
import { repoRoot } from '../testkit/files.ts';

// POST /hooks/git on the real API server: the forges' documented payloads,
// signed as each forge signs them, trigger a poll; anything else changes nothing.

const SECRET = 'whsec-3b7e1f0a9c5d';
const fixture = (name: string) => readFile(join(repoRoot, 'test', 'fixtures', 'forge', name));
const hmac = (body: Buffer, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

interface Listening {
  server: ApiServer;
  polls: number;
}

describe('POST /hooks/git', () => {
  let dir: string;
  let store: Store;
  const servers: ApiServer[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-hooks-'));
    store = await openStore({ stateDir: dir }, silentLogger);
  });
  after(async () => {
    for (const s of servers) await s.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function listen(type: ForgeType | null): Promise<Listening> {
    const listening = { polls: 0 } as Listening;
    const gitHook = type ? createGitHook({ type, secret: SECRET, trigger: () => (listening.polls += 1), log: silentLogger }) : undefined;
    listening.server = await startApiServer(createFakeEngine(), { host: '127.0.0.1', port: 0, access: new AccessControl(store, TEST_TOKEN), log: silentLogger, ...(gitHook ? { gitHook } : {}) });
    servers.push(listening.server);
    return listening;
  }

  const post = (server: ApiServer, body: Buffer, headers: Record<string, string>) =>
    fetch(`${server.url}/hooks/git`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/json', ...headers } });

  it('GitHub: a push and a pull request signed with the secret poll at once (202); no token is needed', async () => {
    const hook = await listen('github');
    for (const [name, event] of [['github-push.json', 'push'], ['github-pull-request.json', 'pull_request']] as const) {
      const body = await fixture(name);
      const res = await post(hook.server, body, { 'x-github-event': event, 'x-hub-signature-256': `sha256=${hmac(body)}` });
      assert.equal(res.status, 202, await res.text());
    }
    assert.equal(hook.polls, 2);
  });

  it('GitHub: a bad, missing or other-secret signature is 401 and polls nothing', async () => {
    const hook = await listen('github');
    const body = await fixture('github-push.json');
    const tampered = Buffer.from(body.toString('utf8').replace('feature/vpc-cidr', 'main'));
    const cases: Array<[Buffer, Record<string, string>]> = [
      [body, {}],
      [body, { 'x-hub-signature-256': `sha256=${hmac(body, 'another-secret')}` }],
      [tampered, { 'x-hub-signature-256': `sha256=${hmac(body)}` }],
      [body, { 'x-hub-signature-256': hmac(body) }],
      [body, { 'x-gitlab-token': SECRET }],
    ];
    for (const [payload, headers] of cases) {
      const res = await post(hook.server, payload, { 'x-github-event': 'push', ...headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      const answer = (await res.json()) as { error: { code: string; hint: string } };
      assert.equal(answer.error.code, 'E_WEBHOOK_SIGNATURE');
      assert.match(answer.error.hint, /webhookSecretFile/);
    }
    assert.equal(hook.polls, 0);
  });

  it('GitLab: the secret token in X-Gitlab-Token polls; a wrong one is 401', async () => {
    const hook = await listen('gitlab');
    for (const name of ['gitlab-push.json', 'gitlab-merge-request.json']) {
      const res = await post(hook.server, await fixture(name), { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET });
      assert.equal(res.status, 202);
    }
    const body = await fixture('gitlab-push.json');
    assert.equal((await post(hook.server, body, { 'x-gitlab-token': `${SECRET}x` })).status, 401);
    assert.equal((await post(hook.server, body, { 'x-hub-signature-256': `sha256=${hmac(body)}` })).status, 401, 'a GitLab forge is not signed the GitHub way');
    assert.equal(hook.polls, 2);
  });

  it('Gitea and Forgejo: X-Hub-Signature-256, or the bare X-Gitea-Signature, polls; a wrong one is 401', async () => {
    const hook = await listen('gitea');
    const body = await fixture('gitea-push.json');
    assert.equal((await post(hook.server, body, { 'x-gitea-event': 'push', 'x-hub-signature-256': `sha256=${hmac(body)}` })).status, 202);
    assert.equal((await post(hook.server, body, { 'x-gitea-event': 'push', 'x-gitea-signature': hmac(body) })).status, 202);
    assert.equal((await post(hook.server, body, { 'x-gitea-event': 'push', 'x-gitea-signature': hmac(body, 'nope') })).status, 401);
    assert.equal(hook.polls, 2);
  });

  it('without forge.webhookSecretFile the route is off: 404, nothing polled', async () => {
    const hook = await listen(null);
    const body = await fixture('github-push.json');
    const res = await post(hook.server, body, { 'x-hub-signature-256': `sha256=${hmac(body)}` });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'E_NOT_FOUND');
  });

  it('a body over the limit is 413, another method 405, and neither polls', async () => {
    const hook = await listen('github');
    const big = Buffer.alloc(MAX_HOOK_BYTES + 1, 'a');
    const res = await post(hook.server, big, { 'x-hub-signature-256': `sha256=${hmac(big)}` });
    assert.equal(res.status, 413);
    const get = await fetch(`${hook.server.url}/hooks/git`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal(hook.polls, 0);
  });
});
