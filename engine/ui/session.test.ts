import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { csrfMatches, SESSION_COOKIE, SessionStore } from './session.ts';

function request(cookie?: string): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  if (cookie) req.headers.cookie = cookie;
  return req;
}

function issued(store: SessionStore, who = { actor: 'alice', role: 'approver' as const, via: 'oidc' as const }) {
  const req = request();
  const res = new ServerResponse(req);
  store.issue(req, res, who);
  const header = (res.getHeader('Set-Cookie') as string[])[0]!;
  const id = header.slice(`${SESSION_COOKIE}=`.length, header.indexOf(';'));
  return { header, cookie: `${SESSION_COOKIE}=${id}`, id };
}

test('a session cookie is a random 256-bit id, HttpOnly, SameSite=Strict, Path=/ (Secure only over TLS)', () => {
  const store = new SessionStore();
  const { header, id } = issued(store);
  assert.equal(Buffer.from(id, 'base64url').length, 32);
  assert.match(header, /; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  assert.doesNotMatch(header, /Secure/);
  assert.notEqual(issued(store).id, id);
});

test('a session is found by its cookie, with its principal and a CSRF token only it matches', () => {
  const store = new SessionStore();
  const { cookie } = issued(store);
  const session = store.get(request(`other=1; ${cookie}`))!;
  assert.deepEqual(session.principal, { actor: 'alice', role: 'approver', via: 'oidc' });
  assert.ok(csrfMatches(session, session.csrf));
  assert.ok(!csrfMatches(session, `${session.csrf}x`));
  assert.ok(!csrfMatches(session, undefined));
  assert.equal(store.get(request(`${SESSION_COOKIE}=forged`)), undefined);
  assert.equal(store.get(request()), undefined);
});

test('idle and absolute expiry, logout, and the end of every session of a revoked token', () => {
  let now = 0;
  const store = new SessionStore({ idleMs: 1000, absoluteMs: 2500 }, () => now);
  const { cookie } = issued(store);
  now = 900;
  assert.ok(store.get(request(cookie)), 'used within the idle time');
  now = 1800;
  assert.ok(store.get(request(cookie)), 'the idle clock restarted at the last use');
  now = 2500;
  assert.equal(store.get(request(cookie)), undefined, 'ended at the absolute limit though used');
  now = 3000;
  const again = issued(store);
  now = 4000;
  assert.equal(store.get(request(again.cookie)), undefined, 'ended after the idle time');

  const fresh = issued(store);
  const res = new ServerResponse(request());
  store.end(request(fresh.cookie), res);
  assert.equal(store.get(request(fresh.cookie)), undefined);
  assert.match((res.getHeader('Set-Cookie') as string[])[0]!, /^plumbline_session=; .*Max-Age=0$/);

  const req = request();
  const a = store.start(req, new ServerResponse(req), { actor: 'ci', role: 'viewer', via: 'token' }, { credential: 'plb_x' });
  store.endCredential('plb_x');
  assert.equal(store.size, 0);
  assert.equal(a.credential, 'plb_x');
});
