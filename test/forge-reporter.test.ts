import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { COMMENT_MARKER } from '../engine/forge/comment.ts';
import { createForgeClient } from '../engine/forge/client.ts';
import type { PreviewState, PreviewUnit } from '../engine/forge/preview-types.ts';
import { ForgeReporter } from '../engine/forge/reporter.ts';
import { readForgeSecrets } from '../engine/forge/settings.ts';
import { createLogger, silentLogger } from '../engine/log.ts';
import type { HistoryEvent } from '../engine/model.ts';
import { FORGE_DIALECTS, ForgeStandIn } from '../testkit/forge/index.ts';
import { waitFor } from '../testkit/wait.ts';

// The reporter against a stand-in of each forge, which refuses any request
// that is not in the shape the forge documents.

const SHA_1 = 'a'.repeat(40);
const SHA_2 = 'b'.repeat(40);
const BASE = 'c'.repeat(40);
const FAST = { firstDelayMs: 50, maxDelayMs: 400 };

const unit = (name: string, status: PreviewUnit['status'], extra: Partial<PreviewUnit> = {}): PreviewUnit => ({ name, kind: name === 'web' ? 'ansible' : 'terraform', status, ...extra });
const preview = (ref: string, revision: string, units: PreviewUnit[]): PreviewState => ({ ref, revision, mergeBase: BASE, units, updatedAt: new Date().toISOString() });
const PLANNED = unit('network', 'Preview', { planId: 'network-aaaaaaaa-0001', summary: { add: 1, change: 0, destroy: 0, replace: 0 }, excerpt: '+ resource "terraform_data" "vpc" {\n+   input = "10.0.0.0/16"\n+ }' });
const DEPENDANT = unit('web', 'Preview', { planId: 'web-aaaaaaaa-0001', summary: { add: 0, change: 2, destroy: 0, replace: 0 }, excerpt: 'web-1: changed: [template] /srv/www/index.html' });

const forges: ForgeStandIn[] = [];
after(async () => {
  for (const f of forges) await f.close();
});

async function setUp(type: keyof typeof FORGE_DIALECTS, options: { repository?: string; firstDelayMs?: number } = {}) {
  const forge = await ForgeStandIn.start(FORGE_DIALECTS[type], options);
  forges.push(forge);
  const settings = { type, url: forge.url, repository: forge.repository, tokenFile: '/unused', webhookSecretFile: null };
  const reporter = new ForgeReporter({ client: createForgeClient(settings, forge.token), log: silentLogger, uiBase: () => 'https://plumbline.example.com', delivery: { ...FAST, ...(options.firstDelayMs ? { firstDelayMs: options.firstDelayMs } : {}) } });
  return { forge, reporter };
}

for (const type of ['github', 'gitlab', 'gitea'] as const) {
  describe(`forge reporting to ${type}`, () => {
    it('posts a status per unit (pending, then the summary) and one comment, updated in place on the next push', async () => {
      const { forge, reporter } = await setUp(type, type === 'gitlab' ? { repository: 'acme/platform/infra' } : {});
      forge.openMergeRequest(7, 'feature/vpc');
      const ref = 'refs/heads/feature/vpc';
      reporter.previewUpdated(preview(ref, SHA_1, [unit('network', 'Planning'), unit('web', 'Queued')]));
      await waitFor(() => forge.latestStatus(SHA_1, 'plumbline/network') && forge.commentsOn(7).length === 1, { what: 'the first statuses and the comment' });
      assert.equal(forge.latestStatus(SHA_1, 'plumbline/network')!.state, 'pending');
      reporter.previewUpdated(preview(ref, SHA_1, [PLANNED, DEPENDANT]));
      await waitFor(() => forge.latestStatus(SHA_1, 'plumbline/web')?.description.startsWith('preview:') && forge.commentsOn(7)[0]!.body.includes('web-1: changed'), { what: 'the planned preview' });
      const network = forge.latestStatus(SHA_1, 'plumbline/network')!;
      assert.equal(network.state, 'success');
      assert.equal(network.description, 'preview: +1 ~0 -0 ±0');
      assert.equal(network.targetUrl, 'https://plumbline.example.com/ui/plans/network-aaaaaaaa-0001');

      // The whole effect, in dependency order, in one comment.
      const body = forge.commentsOn(7)[0]!.body;
      assert.ok(body.startsWith(COMMENT_MARKER));
      assert.ok(body.indexOf('`network`') < body.indexOf('`web`'), 'dependency order');
      assert.match(body, /\+ resource "terraform_data" "vpc"/);

      // A push: the new head gets its statuses, the comment is the same one, rewritten.
      reporter.previewUpdated(preview(ref, SHA_2, [{ ...PLANNED, status: 'Failed', error: 'E_TOOL: terraform plan failed\nError: Invalid CIDR' }, unit('web', 'Queued')]));
      await waitFor(() => forge.latestStatus(SHA_2, 'plumbline/network')?.state === (type === 'gitlab' ? 'failed' : 'failure') && forge.commentsOn(7)[0]!.body.includes(SHA_2.slice(0, 12)), { what: 'the second push' });
      assert.equal(forge.commentsOn(7).length, 1, 'updated, not duplicated');
      assert.match(forge.latestStatus(SHA_2, 'plumbline/network')!.description, /^preview failed: E_TOOL: terraform plan failed$/);
      assert.deepEqual(forge.rejected, []);
      await reporter.drain();
    });

    it('finds the comment it wrote before (a restarted daemon) and keeps to it; refs/pull and refs/merge-requests name their number', async () => {
      const { forge, reporter } = await setUp(type);
      forge.openMergeRequest(12, 'topic');
      forge.commentsOn(12).push({ id: 1, body: 'Looks good to me' }, { id: 2, body: `${COMMENT_MARKER}\nan older preview` });
      const ref = type === 'gitlab' ? 'refs/merge-requests/12/head' : 'refs/pull/12/head';
      reporter.previewUpdated(preview(ref, SHA_1, [PLANNED]));
      await waitFor(() => forge.commentsOn(12)[1]!.body.includes('+1 ~0 -0'), { what: 'the older comment rewritten' });
      assert.equal(forge.commentsOn(12).length, 2);
      assert.equal(forge.commentsOn(12)[0]!.body, 'Looks good to me');
      assert.ok(!forge.requests.some((r) => /pulls|merge_requests$/.test(r)), 'the number came from the ref, not a search');
      assert.deepEqual(forge.rejected, []);
    });

    it('a forge that is down is retried in the background, and only the newest state is delivered', async () => {
      // A backoff long enough that no retry of the first state is in flight when the forge comes back.
      const { forge, reporter } = await setUp(type, { firstDelayMs: 400 });
      forge.openMergeRequest(3, 'down');
      forge.fail('down');
      reporter.previewUpdated(preview('refs/heads/down', SHA_1, [unit('network', 'Planning')]));
      await waitFor(() => forge.failedRequests >= 2, { what: 'the first attempts at a forge that is down' });
      reporter.previewUpdated(preview('refs/heads/down', SHA_1, [PLANNED]));
      assert.ok(reporter.pending <= 2, 'one slot per status and per comment, however many states came');
      forge.fail(null);
      await waitFor(() => forge.latestStatus(SHA_1, 'plumbline/network') && forge.commentsOn(3).length === 1 && reporter.pending === 0, { what: 'delivery once the forge is back' });
      assert.deepEqual(
        forge.statuses.map((s) => s.description),
        ['preview: +1 ~0 -0 ±0'],
        'the pending state queued while the forge was down was replaced, never sent',
      );
      assert.deepEqual(forge.rejected, []);
    });
  });
}

describe('forge reporting: limits, rate limits and the watched branch', () => {
  it('a rate limit with Retry-After holds requests as long as asked', async () => {
    const { forge, reporter } = await setUp('github');
    forge.fail('rate-limited', { retryAfterSeconds: 1 });
    const started = Date.now();
    reporter.previewUpdated(preview('refs/heads/nomr', SHA_1, [PLANNED]));
    await waitFor(() => forge.failedRequests >= 1, { what: 'the rate-limited attempt' });
    forge.fail(null);
    await waitFor(() => forge.latestStatus(SHA_1, 'plumbline/network'), { what: 'the status after the wait' });
    assert.ok(Date.now() - started >= 900, `waited ${Date.now() - started} ms`);
    assert.equal(forge.failedRequests, 2, 'the status and the merge request search, each refused once, then held back');
  });

  it('a very large preview is cut well under the forge limit, with a pointer to the rest', async () => {
    const { forge, reporter } = await setUp('github');
    forge.openMergeRequest(9, 'big');
    const line = `+ resource "terraform_data" "x" { input = "${'y'.repeat(300)}" }`;
    const units = Array.from({ length: 300 }, (_, i) => unit(`stack-${String(i).padStart(3, '0')}`, 'Preview', { planId: `p-${i}`, summary: { add: 40, change: 0, destroy: 0, replace: 0 }, excerpt: Array(40).fill(line).join('\n') }));
    reporter.previewUpdated(preview('refs/heads/big', SHA_1, units));
    await waitFor(() => forge.commentsOn(9).length === 1, { what: 'the comment', timeoutMs: 20_000 });
    const body = forge.commentsOn(9)[0]!.body;
    assert.ok(body.length <= 65_535 * 0.9, `${body.length} characters`);
    assert.match(body, /\*\*\d+ units more not shown here\*\*/);
    assert.match(body, /plumbline previews refs\/heads\/big/);
    assert.match(body, /more line\(s\) in the full plan/);
    assert.deepEqual(forge.rejected, []);
  });

  it("the watched branch's plans and applies become statuses on their commit; drift plans post nothing", async () => {
    const { forge, reporter: plain } = await setUp('gitlab');
    void plain;
    const settings = { type: 'gitlab' as const, url: forge.url, repository: forge.repository, tokenFile: '/unused', webhookSecretFile: null };
    const reporter = new ForgeReporter({
      client: createForgeClient(settings, forge.token),
      log: silentLogger,
      uiBase: () => undefined,
      planPurpose: async (id) => (id.startsWith('drift') ? 'drift' : 'change'),
      delivery: FAST,
    });
    const event = (type: HistoryEvent['type'], message: string, planId = 'vpc-1'): HistoryEvent => ({ seq: 1, at: new Date().toISOString(), type, unit: 'vpc', revision: SHA_2, planId, message });
    reporter.historyEvent(event('planned', '1 to add, 0 to change, 0 to destroy, 0 to replace'));
    await waitFor(() => forge.latestStatus(SHA_2, 'plumbline/vpc')?.state === 'pending', { what: 'the planned status' });
    reporter.historyEvent(event('applied', 'applied: 1 added'));
    await waitFor(() => forge.latestStatus(SHA_2, 'plumbline/vpc')?.state === 'success', { what: 'the applied status' });
    assert.equal(forge.latestStatus(SHA_2, 'plumbline/vpc')!.description, 'applied: applied: 1 added');
    reporter.historyEvent(event('planned', '1 to change', 'drift-9'));
    reporter.historyEvent({ ...event('sync-requested', 'sync'), unit: null });
    await reporter.drain(500);
    assert.equal(forge.latestStatus(SHA_2, 'plumbline/vpc')!.state, 'success', 'a drift plan of the same commit does not turn it pending');
    assert.deepEqual(forge.rejected, []);
  });

  it('the token is read from its file and never appears in a log line, even when the forge refuses it', async () => {
    const forge = await ForgeStandIn.start(FORGE_DIALECTS.github);
    forges.push(forge);
    const dir = await mkdtemp(join(tmpdir(), 'plumbline-forge-'));
    try {
      await writeFile(join(dir, 'token'), `${forge.token}\n`);
      const settings = { type: 'github' as const, url: forge.url, repository: forge.repository, tokenFile: join(dir, 'token'), webhookSecretFile: null };
      const { token } = await readForgeSecrets(settings);
      assert.equal(token, forge.token);
      let logText = '';
      const log = createLogger({ level: 'trace', destination: { write: (chunk: string) => ((logText += chunk), true) } as NodeJS.WritableStream });
      const reporter = new ForgeReporter({ client: createForgeClient(settings, token), log, uiBase: () => undefined, delivery: { ...FAST, maxAttempts: 2 } });
      forge.fail('unauthorized');
      reporter.previewUpdated(preview('refs/heads/x', SHA_1, [PLANNED]));
      await waitFor(() => logText.includes('given up'), { what: 'the refused attempts logged' });
      assert.match(logText, /E_FORGE_UNAUTHORIZED/);
      assert.match(logText, /forge\.tokenFile/);
      assert.ok(!logText.includes(forge.token), 'the token is not in the log');
      log.info({ header: `Bearer ${forge.token}` }, 'a line that would carry it');
      assert.ok(!logText.includes(forge.token), 'masked even where code would log it');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
