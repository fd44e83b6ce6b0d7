import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StatusAnswer } from '../engine/api/contract.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { FORGE_DIALECTS, ForgeStandIn } from '../testkit/forge/index.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

// The real daemon (real git and terraform) reporting to a GitHub stand-in:
// its polls come from signed webhooks only (the interval is an hour).

const SECRET = 'whsec-daemon-8d2f4b61';
let repo: TestRepo;
let forge: ForgeStandIn;
let daemon: TestDaemon;
let secrets: string;
let first: string;


async function hook(signature: string | null): Promise<number> {
  const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/feature', after: '0'.repeat(40), repository: { full_name: forge.repository } }));
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': 'push' };
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  const res = await fetch(`${daemon.url}/hooks/git`, { method: 'POST', body: new Uint8Array(body), headers });
  await res.arrayBuffer();
  return res.status;
}
const sign = (body: Buffer) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
const goodHook = () => hook(sign(Buffer.from(JSON.stringify({ ref: 'refs/heads/feature', after: '0'.repeat(40), repository: { full_name: 'acme/infra' } }))));
const fetchCount = async () => (await daemon.api<StatusAnswer>('/api/v1/status')).body.source.fetchCount;

before(async () => {
  forge = await ForgeStandIn.start(FORGE_DIALECTS.github);
  secrets = mkdtempSync(join(tmpdir(), 'plumbline-forge-secrets-'));
  writeFileSync(join(secrets, 'token'), `${forge.token}\n`);
  writeFileSync(join(secrets, 'hook-secret'), `${SECRET}\n`);
  repo = new TestRepo();
  first = repo.commit(helloStack({ name: 'alpha', approval: 'auto' }), 'alpha');
  daemon = await TestDaemon.start({
    sourceUrl: repo.url,
    sourceConfig: ['  previews:', '    refs: ["refs/heads/*"]'].join('\n'),
    extraConfig: ['forge:', '  type: github', `  url: ${forge.url}`, `  repository: ${forge.repository}`, `  tokenFile: ${join(secrets, 'token')}`, `  webhookSecretFile: ${join(secrets, 'hook-secret')}`].join('\n'),
  });
});

after(async () => {
  await daemon?.dispose();
  await forge?.close();
  repo?.dispose();
  if (secrets) rmSync(secrets, { recursive: true, force: true });
});

test("the watched branch's plan and apply are statuses on its commit", async () => {
  await daemon.waitForUnit('alpha', 'InSync', { revision: first });
  const status = await waitFor(() => (forge.latestStatus(first, 'plumbline/alpha')?.state === 'success' ? forge.latestStatus(first, 'plumbline/alpha') : undefined), { what: 'the applied status' });
  assert.match(status.description, /^applied/);
  assert.ok(forge.statuses.some((s) => s.sha === first && s.state === 'pending'), 'pending while it planned and applied');
  assert.match(status.targetUrl ?? '', /\/ui\/plans\/alpha-/);
});

test('a signed webhook polls at once: the branch is previewed, with statuses on its head and one comment, updated on the next push', async () => {
  forge.openMergeRequest(5, 'feature');
  const head = repo.pushBranch('feature', helloStack({ name: 'alpha', value: 'bonjour', approval: 'auto' }));
  assert.equal(await goodHook(), 202);
  await waitFor(() => forge.latestStatus(head, 'plumbline/alpha')?.state === 'success' && forge.commentsOn(5)[0]?.body.includes('~1'), { what: 'the preview reported', timeoutMs: 120_000 });
  assert.match(forge.latestStatus(head, 'plumbline/alpha')!.description, /^preview: \+0 ~1 -0/);
  assert.match(forge.commentsOn(5)[0]!.body, /refs\/heads\/feature/);

  const second = repo.pushBranch('feature', helloStack({ name: 'alpha', value: 'hola', approval: 'auto' }));
  assert.equal(await goodHook(), 202);
  await waitFor(() => forge.latestStatus(second, 'plumbline/alpha')?.state === 'success' && forge.commentsOn(5)[0]!.body.includes(second.slice(0, 12)), { what: 'the second push reported', timeoutMs: 120_000 });
  assert.equal(forge.commentsOn(5).length, 1, 'the comment is updated, not duplicated');
  assert.deepEqual(forge.rejected, []);
});

test('a webhook with a bad signature is 401 and polls nothing', async () => {
  const before = await fetchCount();
  assert.equal(await hook('sha256=' + '0'.repeat(64)), 401);
  assert.equal(await hook(null), 401);
  assert.equal(await fetchCount(), before);
});

test('a forge that is down blocks no apply; its statuses arrive once it is back', async () => {
  forge.fail('down');
  const next = repo.pushBranch('main', helloStack({ name: 'alpha', value: 'hallo', approval: 'auto' }));
  assert.equal(await goodHook(), 202);
  await daemon.waitForUnit('alpha', 'InSync', { revision: next });
  assert.ok(forge.failedRequests > 0, 'the forge was tried while down');
  forge.fail(null);
  await waitFor(() => forge.latestStatus(next, 'plumbline/alpha')?.state === 'success', { what: 'the status after the forge came back', timeoutMs: 60_000 });
});

test('the forge token is in no log line', () => {
  assert.ok(daemon.logs.includes('forge reporting on'));
  assert.ok(!daemon.logs.includes(forge.token));
  assert.ok(!daemon.logs.includes(SECRET));
});
