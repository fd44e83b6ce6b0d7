import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { HistoryEvent } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { TestOidcProvider } from '../testkit/oidc-provider.ts';
import { freePort } from '../testkit/ports.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

/**
 * OpenID Connect login through the review UI of a real daemon, in Chromium,
 * with a real OpenID provider on another loopback site (127.0.0.3), so the
 * provider's answer is a cross-site navigation as in real life. The daemon
 * starts while the provider is down: the token login works meanwhile, and
 * the OpenID login once the provider answers.
 */

const CLIENT_ID = 'plumbline';
const CLIENT_SECRET = 'test-client-secret-0123456789abcdef';
const users = [
  { name: 'alice', groups: ['engineering', 'sre'] },
  { name: 'bob', groups: ['engineering'] },
  { name: 'mallory', groups: ['marketing'] },
];

let dir: string;
let repo: TestRepo;
let daemon: TestDaemon;
let provider: TestOidcProvider | undefined;
let providerPort: number;
let browser: Browser;
let revision: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-ui-oidc-'));
  const secretFile = join(dir, 'oidc-secret');
  writeFileSync(secretFile, `${CLIENT_SECRET}\n`, { mode: 0o600 });
  repo = new TestRepo();
  revision = repo.commit(helloStack({ approval: 'manual' }), 'a stack that waits for an approver');
  // Reserved, not listened on: the provider is down when the daemon starts.
  providerPort = await freePort('127.0.0.3');
  daemon = await TestDaemon.start({
    sourceUrl: repo.url,
    extraConfig: [
      'auth:',
      '  oidc:',
      `    issuer: http://127.0.0.3:${providerPort}`,
      `    clientId: ${CLIENT_ID}`,
      `    clientSecretFile: ${secretFile}`,
      '    scopes: [openid, profile, groups]',
      '    roles:',
      '      admin: [platform-admins]',
      '      approver: [sre]',
      '      viewer: [engineering]',
    ].join('\n'),
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await provider?.stop();
  await daemon?.dispose();
  repo?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A browser that reaches loopback addresses only (the provider's login page asks for a web font). */
async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: daemon.url });
  await context.route('**/*', (route) => (/^127\./.test(new URL(route.request().url()).hostname) ? route.continue() : route.abort()));
  return context;
}

/** From the UI's login page through the provider's: its development login takes any password. */
async function logInThroughProvider(context: BrowserContext, start: string, name: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(start);
  await page.getByRole('link', { name: 'Log in with OpenID Connect' }).click();
  await page.getByPlaceholder('Enter any login').fill(name);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  return page;
}

async function sessionCookie(context: BrowserContext) {
  return (await context.cookies(daemon.url)).find((c) => c.name === 'plumbline_session');
}

test('the provider is down at start: the daemon serves, the OpenID login says so, the token login works', async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByRole('link', { name: 'Log in with OpenID Connect' }).click();
  await page.getByRole('heading', { name: 'Login failed' }).waitFor();
  assert.match((await page.getByRole('alert').textContent()) ?? '', /the OpenID provider http:\/\/127\.0\.0\.3:\d+ cannot be reached: .*ECONNREFUSED/);
  assert.match(daemon.logs, /"code":"E_OIDC_ISSUER_UNREACHABLE"/);

  await page.getByRole('link', { name: 'Log in with a token' }).click();
  const created = daemon.cli(['token', 'create', 'ci', '--role', 'viewer']);
  assert.equal(created.code, 0, created.stderr);
  await page.getByLabel('Token').fill(created.stdout.trim());
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${daemon.url}/`);
  assert.equal(await page.locator('.who span').textContent(), 'ci (viewer)');
  await context.close();
});

test('once the provider answers, a user of an approver group lands logged in under their name and approves a plan as themselves', async () => {
  provider = await TestOidcProvider.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: `${daemon.url}/auth/oidc/callback`, users, port: providerPort });
  const plan = await waitFor(async () => (await daemon.plans('hello')).find((p) => p.revision === revision && p.status === 'Pending'), { what: 'the pending plan' });

  const context = await newContext();
  const page = await logInThroughProvider(context, `/ui/plans/${plan.id}`, 'alice');
  // Back where the login started, on the daemon's own site.
  await page.waitForURL(`${daemon.url}/ui/plans/${plan.id}`);
  assert.equal(await page.locator('.who span').textContent(), 'alice (oidc) (approver)');
  const session = await sessionCookie(context);
  assert.ok(session?.httpOnly && session.sameSite === 'Strict', 'the UI’s own session cookie');
  assert.ok(!(await context.cookies(daemon.url)).some((c) => c.name === 'plumbline_oidc'), 'the login’s cookie is gone once it served');

  await page.getByRole('button', { name: 'Approve' }).click();
  const audit = await waitFor(async () => (await daemon.api<HistoryEvent[]>('/api/v1/audit')).body.find((e) => e.type === 'approved' && e.planId === plan.id), {
    what: 'the approval in the audit',
  });
  assert.equal(audit.actor, 'alice (oidc)');
  assert.equal((await daemon.plans('hello')).find((p) => p.id === plan.id)?.decidedBy, 'alice (oidc)');
  assert.match(daemon.logs, /"msg":"OpenID provider discovered/);
  assert.match(daemon.logs, /"actor":"alice \(oidc\)","role":"approver".*"msg":"OpenID login"/);
  assert.ok(!daemon.logs.includes(CLIENT_SECRET), 'the client secret is in no log line');
  await context.close();
});

test('a user whose only listed group is a viewer group logs in as a viewer', async () => {
  const context = await newContext();
  const page = await logInThroughProvider(context, '/', 'bob');
  await page.waitForURL(`${daemon.url}/`);
  assert.equal(await page.locator('.who span').textContent(), 'bob (oidc) (viewer)');
  await context.close();
});

test('a user in no listed group is refused with a page that says so, gets no session, and the refusal is logged', async () => {
  const context = await newContext();
  const page = await logInThroughProvider(context, '/', 'mallory');
  await page.getByRole('heading', { name: 'No access' }).waitFor();
  assert.match((await page.getByRole('alert').textContent()) ?? '', /mallory is in none of the groups that give a role in Plumbline \(groups: marketing\)/);
  assert.equal(await sessionCookie(context), undefined);
  await page.goto('/');
  assert.match(page.url(), /\/login\?next=%2F$/, 'still not logged in');
  assert.match(daemon.logs, /"code":"E_OIDC_NO_ROLE".*"user":"mallory".*"groups":\["marketing"\]/);
  await context.close();
});

test('a callback this browser did not start, or with another login’s state, is refused and starts no session', async () => {
  const context = await newContext();
  const page = await context.newPage();
  const forged = await page.goto('/auth/oidc/callback?code=stolen&state=abc');
  assert.equal(forged?.status(), 400);
  assert.match((await page.getByRole('alert').textContent()) ?? '', /this login cannot be finished: the browser sent back no login in progress/);

  await page.goto('/auth/oidc/login');
  await page.getByPlaceholder('Enter any login').waitFor();
  const crossed = await page.goto(`${daemon.url}/auth/oidc/callback?code=other&state=not-this-one`);
  assert.equal(crossed?.status(), 400);
  assert.match((await page.getByRole('alert').textContent()) ?? '', /does not belong to the login this browser started/);
  assert.equal(await sessionCookie(context), undefined);
  assert.match(daemon.logs, /"code":"E_OIDC_STATE_MISMATCH"/);
  await context.close();
});
