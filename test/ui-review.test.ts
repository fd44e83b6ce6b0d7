import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { HistoryEvent, PlanRecord } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { repoRoot } from '../testkit/files.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

/**
 * The review UI in a real Chromium against the real daemon: log in with a
 * token, approve a pending plan and watch the unit reach InSync live, reject
 * with a reason, approve a whole change set after its confirmation, and a
 * viewer who sees no decision and whose forged requests are refused. Every
 * page is checked with axe and photographed into test-artifacts/ui/.
 */

const ARTIFACTS = join(repoRoot, 'test-artifacts', 'ui');

let repo: TestRepo;
let daemon: TestDaemon;
let browser: Browser;
const tokens: Record<string, string> = {};

const web = (removed: string[], note = '') => {
  const extras = ['cache', 'queue'].filter((r) => !removed.includes(r)).map((r) => `resource "terraform_data" "${r}" {\n  input = "${r}"\n}\n`);
  return helloStack({ name: 'web', extra: `${extras.join('')}${note ? `# ${note}\n` : ''}` });
};

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  repo = new TestRepo();
  const app = helloStack({ name: 'app' });
  app['stacks/app/stack.yaml'] = 'kind: terraform\ndependsOn: [web]\nvars:\n  greeting: app\n';
  const first = repo.commit({ ...web([]), ...app }, 'web with a cache and a queue, and an app after it');
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
  for (const [name, role] of [
    ['alice', 'approver'],
    ['dana', 'viewer'],
  ]) {
    const created = daemon.cli(['token', 'create', name!, '--role', role!]);
    assert.equal(created.code, 0, created.stderr);
    tokens[name!] = created.stdout.trim();
  }
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  await daemon.waitForUnit('web', 'InSync', { revision: first });
  await daemon.waitForUnit('app', 'InSync', { revision: first });
});

after(async () => {
  await browser?.close();
  await daemon?.dispose();
  repo?.dispose();
});

async function loggedIn(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: daemon.url });
  const page = await context.newPage();
  await page.goto('/');
  assert.match(page.url(), /\/login\?next=%2F$/, 'a page without a session leads to the login');
  await page.getByLabel('Token').fill(tokens[name]!);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${daemon.url}/`);
  return { context, page };
}

/** No serious or critical accessibility violation, and a screenshot of the page as an artifact. */
async function checkPage(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const result = await new AxeBuilder({ page }).analyze();
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
    [],
    `accessibility of ${name}`,
  );
}

async function pendingPlan(unit: string, revision: string): Promise<PlanRecord> {
  const waiting = await daemon.waitForUnit(unit, 'AwaitingApproval', { revision });
  return (await daemon.plans(unit)).find((p) => p.id === waiting.planId)!;
}

async function csrfOf(page: Page): Promise<string> {
  return page.locator('form[action="/logout"] input[name="csrf"]').inputValue();
}

test('log in with a token, open the pending plan, approve it, and watch the unit reach InSync without a reload', async () => {
  const rev = repo.commit(web(['cache']), 'drop the cache');
  await daemon.sync();
  const plan = await pendingPlan('web', rev);

  const anonymous = await browser.newContext({ baseURL: daemon.url });
  const login = await anonymous.newPage();
  await login.goto('/login');
  await checkPage(login, 'login');
  await anonymous.close();

  const { context, page } = await loggedIn('alice');
  await checkPage(page, 'overview');
  const row = page.locator('tr[data-unit="web"]');
  assert.equal(await row.locator('.phase').textContent(), 'AwaitingApproval');
  // A second page stays on the overview: its row must change by itself.
  const watcher = await context.newPage();
  await watcher.goto('/');
  await watcher.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await waitFor(() => watcher.evaluate(() => document.body.dataset.liveState === 'open'), { what: 'the overview to listen' });

  await row.getByRole('link', { name: 'pending plan' }).click();
  await page.waitForURL(`${daemon.url}/ui/plans/${plan.id}`);
  assert.match((await page.locator('main').textContent())!, /auto-unless-destroy waits for an approver/);
  assert.equal(await page.locator('details.item[data-address="terraform_data.cache"]').count(), 1, 'the destroyed resource is listed');
  await checkPage(page, 'plan');

  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(`${daemon.url}/ui/plans/${plan.id}`);
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await page.locator('[data-unit-phase="web"]', { hasText: 'InSync' }).waitFor({ timeout: 120_000 });
  await watcher.locator('tr[data-unit="web"] .phase', { hasText: 'InSync' }).waitFor({ timeout: 30_000 });
  for (const p of [page, watcher]) assert.equal(await p.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, 'updated live, not reloaded');

  const applied = (await daemon.plans('web')).find((p) => p.id === plan.id)!;
  assert.equal(applied.status, 'Applied');
  assert.equal(applied.decidedBy, 'alice', 'the history names the token, as through the API');
  const audit = (await daemon.api<HistoryEvent[]>('/api/v1/audit')).body;
  assert.ok(audit.some((e) => e.type === 'approved' && e.planId === plan.id && e.actor === 'alice' && e.remote === '127.0.0.1'));

  await page.goto(`/ui/unit?name=web`);
  assert.match((await page.locator('main').textContent())!, /greeting/, 'the outputs are listed');
  await checkPage(page, 'unit');
  for (const [path, name] of [
    ['/ui/source', 'source'],
    ['/ui/history', 'history'],
    ['/ui/audit', 'audit'],
    ['/ui/changesets', 'change-sets'],
  ] as const) {
    await page.goto(path);
    await checkPage(page, name);
  }
  assert.match((await page.goto('/ui/audit'), await page.locator('main').textContent())!, /alice/);
  await context.close();
});

test('a viewer sees no decision, its forged requests are refused, and its revoked token ends its session; a request from another site is refused to anyone', async () => {
  const rev = repo.commit(web(['cache', 'queue']), 'drop the queue');
  await daemon.sync();
  const plan = await pendingPlan('web', rev);

  const viewer = await loggedIn('dana');
  await viewer.page.goto(`/ui/plans/${plan.id}`);
  assert.equal(await viewer.page.getByRole('button', { name: 'Approve' }).count(), 0);
  assert.equal(await viewer.page.getByRole('button', { name: 'Reject' }).count(), 0);
  const csrf = await csrfOf(viewer.page);
  const forged = await viewer.page.evaluate(
    // No named function inside: the page runs this text as it is.
    async ({ id, csrf }) => {
      const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
      const withToken = await fetch(`/ui/plans/${id}/approve`, { method: 'POST', headers: formHeaders, body: `csrf=${encodeURIComponent(csrf)}` });
      const without = await fetch(`/ui/plans/${id}/approve`, { method: 'POST', headers: formHeaders, body: '' });
      const api = await fetch(`/api/v1/plans/${id}/approve`, { method: 'POST', headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: '{}' });
      return { withToken: withToken.status, without: without.status, api: api.status, apiBody: await api.json() };
    },
    { id: plan.id, csrf },
  );
  assert.deepEqual({ withToken: forged.withToken, without: forged.without, api: forged.api }, { withToken: 403, without: 403, api: 403 });
  assert.equal(forged.apiBody.error.code, 'E_FORBIDDEN');
  // Revoking the token ends the session made from it, on its next request.
  const revoked = daemon.cli(['token', 'revoke', 'dana']);
  assert.equal(revoked.code, 0, revoked.stderr);
  await viewer.page.goto('/');
  assert.match(viewer.page.url(), /\/login\?next=/);
  await viewer.context.close();

  // An approver's session, but the request comes from another site: refused before anything is read.
  const approver = await loggedIn('alice');
  const fromElsewhere = await approver.page.request.post(`/ui/plans/${plan.id}/approve`, {
    headers: { origin: 'http://evil.example' },
    form: { csrf: await csrfOf(approver.page) },
  });
  assert.equal(fromElsewhere.status(), 403);
  await approver.context.close();
  assert.equal((await daemon.plans('web')).find((p) => p.id === plan.id)!.status, 'Pending', 'nothing was decided');
});

test('reject with a reason: the plan is rejected, the unit stalls saying why', async () => {
  const unit = (await daemon.unit('web'))!;
  const { context, page } = await loggedIn('alice');
  await page.goto(`/ui/plans/${unit.planId}`);
  await page.getByLabel('Reason (optional)').fill('the queue still has readers');
  await page.getByRole('button', { name: 'Reject' }).click();
  await page.waitForURL(`${daemon.url}/ui/plans/${unit.planId}`);
  assert.equal(await page.locator('dd .status-Rejected').textContent(), 'Rejected');
  const stalled = await daemon.waitForUnit('web', 'Stalled');
  assert.match(stalled.message, /the queue still has readers/);
  assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0, 'nothing left to decide');
  await context.close();
});

test('a change set: its units in order with the graph, and Approve all after a confirmation naming what it destroys', async () => {
  const rev = repo.commit(web(['cache', 'queue'], 'the queue goes, readers moved'), 'drop the queue again');
  await daemon.sync();
  const plan = await pendingPlan('web', rev);
  const { context, page } = await loggedIn('alice');
  await page.goto(`/ui/changesets/${plan.changeSet}`);
  const order = await page.locator('tbody tr th a').allTextContents();
  assert.deepEqual(order, ['web', 'app'], 'dependency order, the dependant after');
  assert.equal(await page.locator('.graph svg path[marker-end]').count(), 1, 'one edge: web to app');
  await checkPage(page, 'change-set');

  await page.getByRole('button', { name: 'Approve all' }).click();
  await page.waitForURL(/\/confirm\??$/);
  const warning = (await page.getByRole('alert').textContent())!;
  assert.match(warning, /This destroys/);
  assert.match(warning, /terraform_data\.queue/);
  await checkPage(page, 'change-set-confirm');
  assert.equal((await daemon.plans('web')).find((p) => p.id === plan.id)!.status, 'Pending', 'the confirmation decides nothing');
  await page.getByRole('button', { name: 'Approve all' }).click();
  await page.waitForURL(`${daemon.url}/ui/changesets/${plan.changeSet}`);
  await daemon.waitForUnit('web', 'InSync', { revision: rev });
  const audit = (await daemon.api<HistoryEvent[]>('/api/v1/audit')).body;
  assert.ok(audit.some((e) => e.type === 'changeset-approved' && e.actor === 'alice'));

  // Logging out ends the session: the next page leads to the login again.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login$/);
  await page.goto('/');
  assert.match(page.url(), /\/login/);
  await context.close();
});
