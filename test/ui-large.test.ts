import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MASK, secrets } from '../engine/secrets.ts';
import { repoRoot } from '../testkit/files.ts';
import { BIG_PLAN, startFleet, type Fleet } from '../testkit/ui-fleet.ts';

/**
 * The review UI on a large fleet (1,000 units, a plan of 5,000 resources),
 * in a real Chromium: pages usable at once, the plan's answer small, search
 * and diffs fetched on opening, secrets masked, a revoked session's refusal.
 */

const SECRET = 'tok-5f2c9e71-sensitive';
const ARTIFACTS = join(repoRoot, 'test-artifacts', 'ui');

let fleet: Fleet;
let browser: Browser;
let page: Page;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  secrets.add(SECRET);
  fleet = await startFleet({ units: 1000, resources: 5000 }, { secret: SECRET });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const context = await browser.newContext({ baseURL: fleet.server.url });
  page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Token').fill('approver-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${fleet.server.url}/`);
});

after(async () => {
  await browser?.close();
  await fleet?.close();
});

const readyAt = (p: Page) => p.evaluate(() => Number(document.documentElement.dataset.readyAt));

/** The page marked itself ready (its script ran to the end). How fast is the bench's figure (`npm run bench -- --only ui`), not a test's. */
async function assertReady(p: Page): Promise<void> {
  const at = await readyAt(p);
  assert.ok(Number.isFinite(at) && at > 0, `the page marked itself ready (data-ready-at: ${at})`);
}

test('the overview of 1,000 units is usable at once and filters as one types', async () => {
  await page.goto('/');
  assert.equal(await page.locator('tr[data-unit]').count(), 1000);
  await assertReady(page);
  await page.getByLabel('Name').fill('stack-99');
  await page.locator('tr[data-unit]:not(.hidden)').first().waitFor();
  const shown = await page.locator('tr[data-unit]:not(.hidden) th').allTextContents();
  assert.equal(shown.length, 11);
  for (const name of shown) assert.match(name, /\/stack-99\d?$/);
  await page.getByLabel('Phase').selectOption('Drifted');
  assert.equal(await page.locator('tr[data-unit]:not(.hidden)').count(), 0);
});

test('a plan of 5,000 resources opens collapsed, under 2 MB, with a search box; a diff loads when opened, secrets masked', async () => {
  const answer = await page.request.get(`/ui/plans/${BIG_PLAN}`, { headers: { 'accept-encoding': 'identity' } });
  const bytes = (await answer.body()).length;
  assert.ok(bytes <= 2 * 1024 * 1024, `the plan page is ${bytes} bytes`);
  await page.goto(`/ui/plans/${BIG_PLAN}`);
  await assertReady(page);
  assert.equal(await page.locator('details.group[open]').count(), 0, 'every group collapsed');
  assert.equal(await page.locator('details.item').count(), 5000);
  await page.screenshot({ path: join(ARTIFACTS, 'plan-5000.png') });

  await page.getByLabel('Search resources').fill('zone_1.aws_route53_record.record_1');
  await page.getByText(/\d+ match/).waitFor();
  const target = page.locator('details.item[data-address="module.zone_1.aws_route53_record.record_1"]');
  assert.ok(await target.isVisible(), 'its group opened');
  await target.locator('summary').click();
  await target.locator('table.diff').waitFor();
  const diff = (await target.locator('.item-body').textContent())!;
  assert.match(diff, /tags\.Owner/);
  assert.match(diff, /"team-a"/);
  assert.ok(diff.includes(MASK) && !diff.includes(SECRET), 'the secret is masked in the diff');
  assert.ok(!(await page.content()).includes(SECRET));
});

test('the session cookie stands for the token on the API; a POST with it needs the CSRF header', async () => {
  const csrf = await page.locator('form[action="/logout"] input[name="csrf"]').inputValue();
  const status = await page.request.get('/api/v1/status');
  assert.equal(status.status(), 200);
  const without = await page.request.post('/api/v1/plans/web-2/approve', { data: {}, headers: { origin: fleet.server.url } });
  assert.equal(without.status(), 403);
  const withHeader = await page.request.post('/api/v1/plans/web-2/approve', { data: {}, headers: { origin: fleet.server.url, 'x-csrf-token': csrf } });
  assert.equal(withHeader.status(), 200);
  assert.equal(((await withHeader.json()) as { decidedBy: string }).decidedBy, 'alice', 'the same actor name as with the token');
});
