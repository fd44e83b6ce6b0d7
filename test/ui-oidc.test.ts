import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { createLogger } from '../engine/log.ts';
import { createOidcLogin, type OidcLogin } from '../engine/ui/oidc/index.ts';
import { SessionStore } from '../engine/ui/session.ts';
import { TestOidcProvider } from '../testkit/oidc-provider.ts';
import { freePort } from '../testkit/ports.ts';
import { waitFor } from '../testkit/wait.ts';

const CLIENT_ID = 'plumbline';
const CLIENT_SECRET = 'test-client-secret-0123456789abcdef';
const roles = { admin: ['platform-admins'], approver: ['sre'], viewer: ['engineering'] };
const users = [
  { name: 'alice', groups: ['sre', 'engineering'] },
  { name: 'mallory', groups: ['marketing'] },
];

/** The login mounted on a server with the UI's session store, and a page that says whose session a request has. */
async function startUi(issuer: string, dir: string, port: number): Promise<{ url: string; login: OidcLogin; logs: string[]; close(): Promise<void> }> {
  const secretFile = join(dir, 'oidc-secret');
  await writeFile(secretFile, `${CLIENT_SECRET}\n`, { mode: 0o600 });
  const logs: string[] = [];
  const url = `http://127.0.0.1:${port}`;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  const login = await createOidcLogin(
    { issuer, clientId: CLIENT_ID, clientSecretFile: secretFile, scopes: ['openid', 'profile', 'groups'], roleClaim: 'groups', roles },
    { baseUrl: url, log, firstRetryMs: 100, maxRetryMs: 200 },
  );
  const sessions = new SessionStore();
  const server: Server = createServer((req, res) => {
    void login(req, res, sessions).then((answered) => {
      if (answered) return;
      const who = sessions.get(req)?.principal;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>UI</title><p id="who">${who ? `${who.actor}, ${who.role}, ${who.via}` : 'nobody'}</p>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url,
    login,
    logs,
    close: async () => {
      login.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('OpenID Connect login through a real provider, in a browser', () => {
  let dir: string;
  let browser: Browser;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-ui-oidc-'));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A browser that reaches loopback addresses only (the provider's page asks for a web font). */
  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    await context.route('**/*', (route) => (/^127\./.test(new URL(route.request().url()).hostname) ? route.continue() : route.abort()));
    return context;
  }

  async function logInAs(context: BrowserContext, start: string, name: string) {
    const page = await context.newPage();
    await page.goto(start);
    await page.getByPlaceholder('Enter any login').fill(name);
    await page.getByPlaceholder('and password').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    return page;
  }

  it('a user of an approver group lands logged in as themselves; a user of no listed group is refused', async () => {
    const uiPort = await freePort();
    const provider = await TestOidcProvider.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: `http://127.0.0.1:${uiPort}/auth/oidc/callback`, users });
    const ui = await startUi(provider.issuer, dir, uiPort).catch(async (error: unknown) => {
      await provider.stop();
      throw error;
    });
    try {
      const context = await newContext();
      const page = await logInAs(context, `${ui.url}/auth/oidc/login?returnTo=/plans`, 'alice');
      await page.waitForURL(`${ui.url}/plans`);
      assert.equal(await page.locator('#who').textContent(), 'alice (oidc), approver, oidc');
      const cookies = await context.cookies(ui.url);
      const session = cookies.find((c) => c.name === 'plumbline_session');
      assert.ok(session?.httpOnly && session.sameSite === 'Strict', JSON.stringify(cookies));
      assert.ok(!cookies.some((c) => c.name === 'plumbline_oidc'), 'the login’s own cookie is gone once it served');
      assert.ok(ui.logs.some((l) => l.includes('"msg":"OpenID login"') && l.includes('"actor":"alice (oidc)"') && l.includes('"role":"approver"')));
      assert.ok(!ui.logs.some((l) => l.includes(CLIENT_SECRET)), 'the client secret is never logged');
      await context.close();

      const refused = await newContext();
      const denied = await logInAs(refused, `${ui.url}/auth/oidc/login`, 'mallory');
      await denied.getByRole('heading', { name: 'No access' }).waitFor();
      assert.match((await denied.getByRole('alert').textContent()) ?? '', /mallory is in none of the groups that give a role in Plumbline \(groups: marketing\)/);
      assert.ok(!(await refused.cookies(ui.url)).some((c) => c.name === 'plumbline_session'), 'no session for a user without a role');
      assert.ok(ui.logs.some((l) => l.includes('"code":"E_OIDC_NO_ROLE"') && l.includes('"user":"mallory"')));
      await refused.close();
    } finally {
      await ui.close();
      await provider.stop();
    }
  });

  it('a callback without the login’s cookie, or with another state, is refused and starts no session', async () => {
    const uiPort = await freePort();
    const provider = await TestOidcProvider.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: `http://127.0.0.1:${uiPort}/auth/oidc/callback`, users });
    const ui = await startUi(provider.issuer, dir, uiPort);
    try {
      const context = await newContext();
      const page = await context.newPage();
      // A link someone sent: this browser started no login.
      const forged = await page.goto(`${ui.url}/auth/oidc/callback?code=stolen&state=abc`);
      assert.equal(forged?.status(), 400);
      assert.match((await page.getByRole('alert').textContent()) ?? '', /this login cannot be finished: the browser sent back no login in progress/);

      // A login started here, answered with another login's state.
      await page.goto(`${ui.url}/auth/oidc/login`);
      await page.getByPlaceholder('Enter any login').waitFor();
      const crossed = await page.goto(`${ui.url}/auth/oidc/callback?code=other&state=not-this-one`);
      assert.equal(crossed?.status(), 400);
      assert.match((await page.getByRole('alert').textContent()) ?? '', /does not belong to the login this browser started/);
      assert.ok(!(await context.cookies(ui.url)).some((c) => c.name === 'plumbline_session'));
      assert.ok(ui.logs.some((l) => l.includes('"code":"E_OIDC_STATE_MISMATCH"')));
      await context.close();
    } finally {
      await ui.close();
      await provider.stop();
    }
  });

  it('a provider down at start: the login page says so, and logins work once it answers', async () => {
    const uiPort = await freePort();
    const providerPort = await freePort('127.0.0.3');
    const ui = await startUi(`http://127.0.0.3:${providerPort}`, dir, uiPort);
    let provider: TestOidcProvider | undefined;
    try {
      const context = await newContext();
      const page = await context.newPage();
      const down = await page.goto(`${ui.url}/auth/oidc/login`);
      assert.equal(down?.status(), 503);
      assert.match((await page.getByRole('alert').textContent()) ?? '', /the OpenID provider http:\/\/127\.0\.0\.3:\d+ cannot be reached: .*ECONNREFUSED/);
      assert.ok(await page.getByRole('link', { name: 'Log in with a token' }).isVisible());
      assert.ok(ui.logs.some((l) => l.includes('"code":"E_OIDC_ISSUER_UNREACHABLE"')));

      provider = await TestOidcProvider.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: `${ui.url}/auth/oidc/callback`, users, port: providerPort });
      // Retried in the background: discovered without anyone trying to log in.
      await waitFor(() => ui.logs.some((l) => l.includes('OpenID provider discovered')), { what: 'the provider to be discovered', timeoutMs: 10_000 });
      const later = await logInAs(context, `${ui.url}/auth/oidc/login`, 'alice');
      await later.waitForURL(`${ui.url}/`);
      assert.equal(await later.locator('#who').textContent(), 'alice (oidc), approver, oidc');
      await context.close();
    } finally {
      await ui.close();
      await provider?.stop();
    }
  });
});
