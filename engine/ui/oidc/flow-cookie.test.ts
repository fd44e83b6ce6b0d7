import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { FLOW_COOKIE, FlowCookies, LOGIN_TTL_MS } from './flow-cookie.ts';
import { localPath } from './index.ts';

const login = { state: 'st', nonce: 'no', verifier: 'ver', returnTo: '/plans' };
const requestWith = (setCookie: string): IncomingMessage => ({ headers: { cookie: `other=1; ${setCookie.split(';')[0]}` } }) as IncomingMessage;

test('a login in progress travels sealed in an HttpOnly, SameSite=Lax cookie only the callback sees', () => {
  const cookies = new FlowCookies(true);
  const { header } = cookies.start(login);
  assert.match(header, new RegExp(`^${FLOW_COOKIE}=[A-Za-z0-9_-]+; Path=/auth/oidc/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$`));
  assert.ok(!header.includes('ver') && !header.includes('/plans'), 'nothing of it is readable in the cookie');
  assert.deepEqual({ ...cookies.read(requestWith(header)), expiresAt: 0 }, { ...login, expiresAt: 0 });
  assert.equal(new FlowCookies(false).clear(), `${FLOW_COOKIE}=; Path=/auth/oidc/; Max-Age=0; HttpOnly; SameSite=Lax`);
});

test('no cookie, a changed one, another daemon’s, or an old one: the login cannot be finished', () => {
  let now = 1_000_000;
  const cookies = new FlowCookies(false, () => now);
  const { header } = cookies.start(login);
  const expired = (message: RegExp) => ({ code: 'E_OIDC_LOGIN_EXPIRED', message });
  assert.throws(() => cookies.read({ headers: {} } as IncomingMessage), expired(/sent back no login in progress/));
  const changed = header.replace(/=([A-Za-z0-9_-]{10})/, '=AAAAAAAAAA');
  assert.throws(() => cookies.read(requestWith(changed)), expired(/not made by this daemon/));
  assert.throws(() => new FlowCookies(false).read(requestWith(header)), expired(/not made by this daemon/));
  now += LOGIN_TTL_MS;
  assert.throws(() => cookies.read(requestWith(header)), expired(/started more than 10 minutes ago/));
});

test('after the login, only a path of this daemon: never another site', () => {
  assert.equal(localPath('/ui/plans/p-1?tab=diff'), '/ui/plans/p-1?tab=diff');
  for (const next of [null, '', 'https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/auth/oidc/login']) {
    assert.equal(localPath(next), '/', String(next));
  }
});
