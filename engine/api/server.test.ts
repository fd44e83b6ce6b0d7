import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createFakeEngine, REV_B, startFakeServer, TEST_TOKEN, type FakeEngine, type FakeServer } from '../../testkit/fake-engine.ts';
import { createLogger } from '../log.ts';
import { secrets } from '../secrets.ts';
import { MAX_BODY_BYTES } from './server.ts';
import { API_ROUTES } from './contract.ts';
import { ROLES, type Actor, type Role } from '../auth/types.ts';
import { waitFor } from '../../testkit/wait.ts';

const SECRET = 'hunter2-secret';

describe('api server', () => {
  let engine: FakeEngine;
  let server: FakeServer;
  let logText = '';

  before(async () => {
    secrets.add(SECRET);
    engine = createFakeEngine();
    const log = createLogger({
      level: 'debug',
      destination: {
        write(chunk: string) {
          logText += chunk;
          return true;
        },
      } as NodeJS.WritableStream,
    });
    server = await startFakeServer(engine, log);
  });
  after(async () => {
    await server.close();
  });

  const call = (path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? TEST_TOKEN : init.token;
    if (token !== null) headers.set('Authorization', `Bearer ${token}`);
    return fetch(`${server.url}${path}`, { ...init, headers });
  };
  const json = async (res: Response): Promise<any> => JSON.parse(await res.text()); // eslint-disable-line @typescript-eslint/no-explicit-any -- each test reads the answer's fields it asserts on, whatever the route

  it('listens on the port the OS picked', () => {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });

  it('answers 401 without a token, with a wrong one, and with a malformed header', async () => {
    for (const auth of [null, 'wrong', `${TEST_TOKEN}x`, TEST_TOKEN.replace(/.$/, 'X')]) {
      const res = await call('/api/v1/status', { token: auth });
      assert.equal(res.status, 401, `token ${auth}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      const body = await json(res);
      assert.equal(body.error.code, 'E_UNAUTHORIZED');
      assert.ok(!JSON.stringify(body).includes(TEST_TOKEN));
    }
    const basic = await call('/api/v1/status', { token: null, headers: { Authorization: `Basic ${TEST_TOKEN}` } });
    assert.equal(basic.status, 401);
    // Routing is not revealed before authentication.
    assert.equal((await call('/api/v1/nope', { token: null })).status, 401);
    assert.equal((await call('/api/v1/healthz', { token: null })).status, 401);
  });

  it('serves status, plans, a plan and the health check with the token', async () => {
    const status = await call('/api/v1/status');
    assert.equal(status.status, 200);
    assert.match(status.headers.get('content-type') ?? '', /^application\/json/);
    const answer = await json(status);
    assert.equal(answer.units.length, 2);
    assert.equal(answer.source.lastFetchedRevision, REV_B);

    const plans = await json(await call('/api/v1/plans?unit=web'));
    assert.deepEqual(
      plans.map((p: { id: string }) => p.id),
      ['web-1', 'web-2'],
    );
    assert.deepEqual(engine.calls.at(-1), { method: 'listPlans', args: [{ unit: 'web' }] });

    const detail = await json(await call('/api/v1/plans/web-2'));
    assert.equal(detail.plan.id, 'web-2');
    assert.equal(typeof detail.rendered, 'string');

    const health = await call('/api/v1/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await json(health), { ok: true });
  });

  it('masks registered secrets in every answer, errors included', async () => {
    const status = await call('/api/v1/status');
    const text = await status.text();
    assert.ok(!text.includes(SECRET));
    assert.match(text, /\(sensitive\)/);

    const detail = await (await call('/api/v1/plans/web-2')).text();
    assert.ok(!detail.includes(SECRET));

    const missing = await call(`/api/v1/plans/${SECRET}`);
    assert.equal(missing.status, 404);
    assert.ok(!(await missing.text()).includes(SECRET));
  });

  it('answers 404 for unknown routes and unknown plans', async () => {
    for (const path of ['/api/v1/nope', '/', '/api/v2/status', '/api/v1/plans/a/b/c']) {
      const res = await call(path);
      assert.equal(res.status, 404, path);
      assert.equal((await json(res)).error.code, 'E_NOT_FOUND');
    }
    const res = await call('/api/v1/plans/zzz');
    assert.equal(res.status, 404);
    const body = await json(res);
    assert.equal(body.error.code, 'E_PLAN_NOT_FOUND');
    assert.equal(body.error.hint, 'list plans with `plumbline plans`');
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const post = await call('/api/v1/status', { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
    assert.equal((await json(post)).error.code, 'E_METHOD_NOT_ALLOWED');
    const get = await call('/api/v1/plans/web-2/approve');
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal((await call('/api/v1/plans', { method: 'DELETE' })).status, 405);
  });

  it('maps ConflictError to 409 with its code, message and hint', async () => {
    const res = await call('/api/v1/plans/web-1/approve', { method: 'POST', body: '{}' });
    assert.equal(res.status, 409);
    const body = await json(res);
    assert.equal(body.error.code, 'E_PLAN_NOT_PENDING');
    assert.match(body.error.message, /Superseded/);
    assert.match(body.error.hint, /newer plan/);
  });

  it('maps ValidationError to 400 with problems, unknown errors to 500 without internals', async () => {
    const invalid = await call('/api/v1/history?unit=invalid');
    assert.equal(invalid.status, 400);
    const body = await json(invalid);
    assert.equal(body.error.code, 'E_VALIDATION');
    assert.deepEqual(body.error.problems, [
      { file: 'stacks/invalid/stack.yaml', line: 3, column: 5, message: 'unknown key "x"' },
    ]);

    const boom = await call('/api/v1/plans?unit=boom');
    assert.equal(boom.status, 500);
    const text = await boom.text();
    assert.equal(JSON.parse(text).error.code, 'E_INTERNAL');
    assert.ok(!text.includes('exploded'));
    assert.ok(!text.includes('/var/lib'));
  });

  it('tells the retry class only where trying again can change the answer: never on a 4xx', async () => {
    const final: Array<[string, RequestInit & { token?: string | null }, number]> = [
      ['/api/v1/plans/zzz', {}, 404],
      ['/api/v1/nope', {}, 404],
      ['/api/v1/plans/web-1/approve', { method: 'POST', body: '{}' }, 409],
      ['/api/v1/history?limit=abc', {}, 400],
      ['/api/v1/history?unit=invalid', {}, 400],
      ['/api/v1/status', { method: 'POST', body: '{}' }, 405],
      ['/api/v1/status', { token: 'wrong' }, 401],
      ['/api/v1/plans/web-2/approve', { method: 'POST', body: JSON.stringify({ by: 'x'.repeat(MAX_BODY_BYTES + 10) }) }, 413],
    ];
    for (const [path, init, status] of final) {
      const res = await call(path, init);
      assert.equal(res.status, status, path);
      const body = await json(res);
      assert.ok(body.error.code, path);
      assert.ok(!('retry' in body.error), `${path}: ${JSON.stringify(body.error)}`);
    }
    // A failure of the daemon itself says whether trying again can help.
    const internal = await call('/api/v1/plans?unit=boom');
    assert.equal(internal.status, 500);
    assert.equal((await json(internal)).error.retry, 'transient');
    const stuck = await call('/api/v1/history?unit=stuck');
    assert.equal(stuck.status, 500);
    assert.deepEqual((await json(stuck)).error, {
      code: 'E_STORE_WRITE',
      message: 'the store is on a read-only filesystem',
      hint: 'remount the state folder read-write',
      retry: 'stalled',
    });
  });

  it('finds a change set by any unique prefix of its commit, as status prints it', async () => {
    for (const ref of ['cs-bbbbbbbb', 'cs-bbbbb', 'cs-BBBBBBBB', 'cs-bbbbbbbbbbbb', `cs-${REV_B}`, 'cs-b2c3d4e5']) {
      const res = await call(`/api/v1/changesets/${ref}`);
      assert.equal(res.status, 200, ref);
      assert.equal((await json(res)).changeSet.id, 'cs-bbbbbbbbbbbb', ref);
      assert.deepEqual(engine.calls.at(-1), { method: 'getChangeSet', args: ['cs-bbbbbbbbbbbb'] }, ref);
    }
    const approved = await call('/api/v1/changesets/cs-bbbbcc/approve', { method: 'POST', body: '{"by":"alice"}' });
    assert.equal(approved.status, 200);
    assert.deepEqual(engine.calls.at(-1), { method: 'approveChangeSet', args: ['cs-bbbbcccc0000', 'bootstrap'] });

    const ambiguous = await call('/api/v1/changesets/cs-bbbb');
    assert.equal(ambiguous.status, 409);
    const error = (await json(ambiguous)).error;
    assert.equal(error.code, 'E_CHANGESET_AMBIGUOUS');
    assert.match(error.message, /^cs-bbbb names 2 change sets: cs-bbbbbbbbbbbb, cs-bbbbcccc0000$/);
    assert.match(error.hint, /plumbline changesets/);
    assert.equal((await call('/api/v1/changesets/cs-bbbb/approve', { method: 'POST', body: '{}' })).status, 409);

    const none = await call('/api/v1/changesets/cs-ffff');
    assert.equal(none.status, 404);
    assert.equal((await json(none)).error.hint, 'list change sets with: plumbline changesets');
  });

  it('approves and rejects as the token’s name: a `by` in the body is accepted and ignored', async () => {
    const approved = await call('/api/v1/plans/web-2/approve', { method: 'POST' });
    assert.equal(approved.status, 200);
    assert.equal((await json(approved)).decidedBy, 'bootstrap');
    engine.undecide('web-2');

    const rejected = await call('/api/v1/plans/web-2/reject', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ by: 'alice', reason: 'not now' }),
    });
    assert.equal(rejected.status, 200);
    assert.equal((await json(rejected)).status, 'Rejected');
    assert.deepEqual(engine.calls.at(-1), { method: 'reject', args: ['web-2', 'bootstrap', 'not now'] });
    engine.undecide('web-2');
  });

  it('validates request bodies and query parameters', async () => {
    const cases: [string, RequestInit][] = [
      ['/api/v1/sync', { method: 'POST', body: '{not json' }],
      ['/api/v1/sync', { method: 'POST', body: '[]' }],
      ['/api/v1/sync', { method: 'POST', body: '{"allowRewrite":"yes"}' }],
      ['/api/v1/sync', { method: 'POST', body: '{"allow_rewrite":true}' }],
      ['/api/v1/plans/web-2/approve', { method: 'POST', body: '{"by":42}' }],
      ['/api/v1/history?limit=abc', {}],
      ['/api/v1/history?limit=0', {}],
    ];
    for (const [path, init] of cases) {
      const res = await call(path, init);
      assert.equal(res.status, 400, `${path} ${String(init.body)}`);
      assert.equal((await json(res)).error.code, 'E_BAD_REQUEST');
    }
    const history = await json(await call('/api/v1/history?unit=web&limit=1'));
    assert.equal(history.length, 1);
    assert.deepEqual(engine.calls.at(-1), { method: 'history', args: [{ unit: 'web', limit: 1 }] });

    const sync = await json(await call('/api/v1/sync', { method: 'POST', body: '{"allowRewrite":true}' }));
    assert.deepEqual(sync, { revision: REV_B, scheduled: ['web', 'db'] });
    assert.deepEqual(engine.calls.at(-1), { method: 'sync', args: [{ allowRewrite: true }, 'bootstrap'] });
    await call('/api/v1/sync', { method: 'POST' });
    assert.deepEqual(engine.calls.at(-1), { method: 'sync', args: [{ allowRewrite: false }, 'bootstrap'] });
  });

  it('refuses bodies over the limit, declared or streamed', async () => {
    const big = JSON.stringify({ by: 'x'.repeat(MAX_BODY_BYTES + 10) });
    const declared = await call('/api/v1/plans/web-2/approve', { method: 'POST', body: big });
    assert.equal(declared.status, 413);
    assert.equal((await json(declared)).error.code, 'E_BODY_TOO_LARGE');

    // Chunked, no Content-Length: the limit applies while reading.
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}/api/v1/plans/web-2/approve`,
        { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKEN}`, 'Transfer-Encoding': 'chunked' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(8 * 1024));
      req.end();
    });
    assert.equal(streamed.status, 413);
    assert.equal(JSON.parse(streamed.body).error.code, 'E_BODY_TOO_LARGE');
    assert.equal(engine.plans.get('web-2')!.status, 'Pending');

    // Just under the limit is fine.
    const ok = await call('/api/v1/plans/web-2/reject', {
      method: 'POST',
      body: JSON.stringify({ reason: 'y'.repeat(3000) }),
    });
    assert.equal(ok.status, 200);
    engine.undecide('web-2');
  });

  it('logs each request at debug with method, route, status and ms, never the token', () => {
    const lines = logText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'api request');
    assert.ok(lines.length > 10);
    const plan = lines.find((l) => l.route === 'GET /api/v1/plans/:id' && l.status === 200);
    assert.ok(plan);
    assert.equal(plan.method, 'GET');
    assert.equal(typeof plan.ms, 'number');
    assert.ok(lines.some((l) => l.status === 401 && l.route === 'unmatched'));
    assert.ok(!logText.includes(TEST_TOKEN));
  });
});

describe('api server lifecycle', () => {
  it('closes with idle keep-alive connections open, and twice', async () => {
    const server = await startFakeServer(createFakeEngine());
    const res = await fetch(`${server.url}/api/v1/healthz`, { headers: { Authorization: `Bearer ${TEST_TOKEN}` } });
    assert.equal(res.status, 200);
    await res.text();
    await server.close();
    await server.close();
    await assert.rejects(fetch(`${server.url}/api/v1/healthz`));
  });

  it('reports a port in use as E_API_LISTEN', async () => {
    const first = await startFakeServer(createFakeEngine());
    try {
      const { startApiServer } = await import('./server.ts');
      const { silentLogger } = await import('../log.ts');
      await assert.rejects(
        startApiServer(createFakeEngine(), { host: '127.0.0.1', port: first.port, access: first.access, log: silentLogger }),
        (error: { code?: string; hint?: string }) => error.code === 'E_API_LISTEN' && /port/.test(error.hint ?? ''),
      );
    } finally {
      await first.close();
    }
  });
});

describe('roles on routes', () => {
  let engine: FakeEngine;
  let server: FakeServer;
  const tokens: Record<Role, string> = { viewer: '', approver: '', admin: '' };
  const root: Actor = { name: 'bootstrap', role: 'admin' };

  before(async () => {
    engine = createFakeEngine();
    server = await startFakeServer(engine);
    for (const role of ROLES) tokens[role] = (await server.access.createToken({ name: `${role}-token`, role }, root)).token;
  });
  after(async () => {
    await server.close();
  });

  const call = (token: string | null, method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method,
      headers: token === null ? {} : { Authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** Every route, with a request that succeeds for a role that may make it. */
  const requests: Array<{ route: string; path: string; body?: unknown; need: Role }> = [
    { route: API_ROUTES.status, path: '/api/v1/status', need: 'viewer' },
    { route: API_ROUTES.plans, path: '/api/v1/plans', need: 'viewer' },
    { route: API_ROUTES.plan, path: '/api/v1/plans/web-2', need: 'viewer' },
    { route: API_ROUTES.history, path: '/api/v1/history', need: 'viewer' },
    { route: API_ROUTES.metrics, path: '/api/v1/metrics', need: 'viewer' },
    { route: API_ROUTES.changeSets, path: '/api/v1/changesets', need: 'viewer' },
    { route: API_ROUTES.changeSet, path: '/api/v1/changesets/cs-bbbbbbbb', need: 'viewer' },
    { route: API_ROUTES.why, path: '/api/v1/why?unit=web', need: 'viewer' },
    { route: API_ROUTES.healthz, path: '/api/v1/healthz', need: 'viewer' },
    { route: API_ROUTES.audit, path: '/api/v1/audit', need: 'viewer' },
    { route: API_ROUTES.cluster, path: '/api/v1/cluster', need: 'viewer' },
    { route: API_ROUTES.previews, path: '/api/v1/previews?ref=refs/heads/feature', need: 'viewer' },
    { route: API_ROUTES.approve, path: '/api/v1/plans/web-2/approve', body: {}, need: 'approver' },
    { route: API_ROUTES.reject, path: '/api/v1/plans/web-2/reject', body: { reason: 'no' }, need: 'approver' },
    { route: API_ROUTES.approveChangeSet, path: '/api/v1/changesets/cs-bbbbbbbb/approve', body: {}, need: 'approver' },
    { route: API_ROUTES.sync, path: '/api/v1/sync', body: {}, need: 'approver' },
    { route: API_ROUTES.drift, path: '/api/v1/drift', body: {}, need: 'approver' },
    { route: API_ROUTES.tokens, path: '/api/v1/tokens', need: 'admin' },
    { route: API_ROUTES.createToken, path: '/api/v1/tokens', body: { name: 'made-by-', role: 'viewer' }, need: 'admin' },
    { route: API_ROUTES.revokeToken, path: '/api/v1/tokens/made-by-/revoke', body: {}, need: 'admin' },
  ];

  it('covers every route', () => {
    assert.deepEqual(new Set(requests.map((r) => r.route)), new Set(Object.values(API_ROUTES)));
  });

  it('each role against each route: 200 where the role may, 403 naming the role needed where it may not', async () => {
    for (const role of ROLES) {
      for (const request of requests) {
        const [method] = request.route.split(' ') as [string];
        // Each role creates and revokes a token of its own.
        const path = request.path.replace('made-by-', `made-by-${role}`);
        const body = request.route === API_ROUTES.createToken ? { name: `made-by-${role}`, role: 'viewer' } : request.body;
        const res = await call(tokens[role], method, path, body);
        const answer = await res.json();
        const allowed = ROLES.indexOf(role) >= ROLES.indexOf(request.need);
        assert.equal(res.status, allowed ? 200 : 403, `${role} ${request.route}: ${JSON.stringify(answer)}`);
        if (!allowed) {
          assert.equal(answer.error.code, 'E_FORBIDDEN');
          assert.match(answer.error.message, new RegExp(`^token ${role}-token \\(${role}\\) may not .*: that needs the ${request.need} role$`));
        }
        engine.undecide('web-2');
      }
    }
  });

  it('a decision names the token that took it, whatever `by` says', async () => {
    const res = await call(tokens.approver, 'POST', '/api/v1/plans/web-2/approve', { by: 'someone-else' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).decidedBy, 'approver-token');
    assert.deepEqual(engine.calls.at(-1), { method: 'approve', args: ['web-2', 'approver-token'] });
    engine.undecide('web-2');
  });

  it('a revoked token is refused on its very next request, an expired one from the moment it expires', async () => {
    const { token } = await server.access.createToken({ name: 'short-lived', role: 'viewer', expires: '1s' }, root);
    const revocable = (await server.access.createToken({ name: 'revocable', role: 'viewer' }, root)).token;
    assert.equal((await call(token, 'GET', '/api/v1/status')).status, 200);
    assert.equal((await call(revocable, 'GET', '/api/v1/status')).status, 200);

    assert.equal((await call(tokens.admin, 'POST', '/api/v1/tokens/revocable/revoke', {})).status, 200);
    const revoked = await call(revocable, 'GET', '/api/v1/status');
    assert.equal(revoked.status, 401);
    assert.match(revoked.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.match((await revoked.json()).error.message, /^token revocable was revoked at .* by admin-token$/);

    const expired = await waitFor(
      async () => {
        const res = await call(token, 'GET', '/api/v1/status');
        return res.status === 200 ? undefined : res;
      },
      { what: 'the token to expire', timeoutMs: 10_000 },
    );
    assert.equal(expired.status, 401);
    assert.match((await expired.json()).error.message, /^token short-lived expired at /);
  });

  it('the health checks answer without a token and say nothing else; /metrics is not there unless the daemon serves it', async () => {
    const health = await call(null, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true });
    const ready = await call(null, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true });
    // The old health check stays behind the token.
    assert.equal((await call(null, 'GET', '/api/v1/healthz')).status, 401);
    // Routes that do not answer without a token are not revealed: 401, not 404.
    assert.equal((await call(null, 'GET', '/metrics')).status, 401);
    assert.equal((await call(tokens.viewer, 'GET', '/metrics')).status, 404);
    assert.equal((await call(null, 'POST', '/healthz')).status, 401);
  });
});

describe('the metrics route', () => {
  const exposition = (requireToken: boolean) => ({
    requireToken,
    render: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', text: '# TYPE up gauge\nup 1\n' }),
  });

  it('answers without a token by default, in the text format', async () => {
    const server = await startFakeServer(createFakeEngine(), undefined, exposition(false));
    try {
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(await res.text(), '# TYPE up gauge\nup 1\n');
    } finally {
      await server.close();
    }
  });

  it('with metrics.requireToken, needs a token (any role)', async () => {
    const server = await startFakeServer(createFakeEngine(), undefined, exposition(true));
    try {
      assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
      const { token } = await server.access.createToken({ name: 'prometheus', role: 'viewer' }, { name: 'bootstrap', role: 'admin' });
      const res = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '# TYPE up gauge\nup 1\n');
    } finally {
      await server.close();
    }
  });

  it('/readyz answers 503 while the engine is not ready', async () => {
    const engine = createFakeEngine();
    engine.ready = async () => false;
    const server = await startFakeServer(engine);
    try {
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { ready: false });
    } finally {
      await server.close();
    }
  });
});
