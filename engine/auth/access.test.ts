import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../log.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql/sql-store.ts';
import { AccessControl } from './access.ts';
import { hashToken } from './tokens.ts';
import type { Actor } from './types.ts';

const BOOTSTRAP = 'b'.repeat(64);

describe('access control on the real store', () => {
  let dir: string;
  let store: SqlStore;
  let now = new Date('2026-03-01T12:00:00.000Z');
  let access: AccessControl;
  const root: Actor = { name: 'bootstrap', role: 'admin', remote: '10.0.0.7' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-access-'));
    store = await openStore({ stateDir: dir }, silentLogger);
    access = new AccessControl(store, BOOTSTRAP, () => now);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const bearer = (token: string) => `Bearer ${token}`;

  it('the token of api.tokenFile is the bootstrap admin; anything else unknown is refused', async () => {
    assert.deepEqual(await access.authenticate(bearer(BOOTSTRAP), '127.0.0.1'), { name: 'bootstrap', role: 'admin', remote: '127.0.0.1' });
    for (const header of [undefined, '', 'Bearer', `Basic ${BOOTSTRAP}`, bearer(`${BOOTSTRAP}x`), bearer('plb_unknown')]) {
      await assert.rejects(access.authenticate(header, undefined), { code: 'E_UNAUTHORIZED', message: 'missing or invalid bearer token' }, String(header));
    }
    assert.throws(() => new AccessControl(store, ''), { code: 'E_API_TOKEN' });
  });

  it('creates a token shown once, keeps only its hash, and records who created it and from where', async () => {
    const created = await access.createToken({ name: 'ci', role: 'approver', units: ['prod/*', 'prod/*'], expires: '30d' }, root);
    assert.match(created.token, /^plb_/);
    assert.deepEqual({ ...created, token: undefined }, {
      name: 'ci',
      role: 'approver',
      units: ['prod/*'],
      createdAt: now.toISOString(),
      createdBy: 'bootstrap',
      expiresAt: '2026-03-31T12:00:00.000Z',
      state: 'active',
      token: undefined,
    });
    assert.deepEqual(await access.authenticate(bearer(created.token), '10.0.0.9'), { name: 'ci', role: 'approver', units: ['prod/*'], remote: '10.0.0.9' });
    const { token: _token, ...shown } = created;
    assert.deepEqual(await access.listTokens(), [shown], 'listed without the token or its hash');
    const [event] = await access.audit();
    assert.equal(event!.type, 'token-created');
    assert.equal(event!.actor, 'bootstrap');
    assert.equal(event!.remote, '10.0.0.7');
    assert.equal(event!.message, 'token ci created by bootstrap from 10.0.0.7: approver on prod/*, expires 2026-03-31T12:00:00.000Z');
    // The database holds the hash, never the token.
    await store.close();
    const files = ['plumbline.db', 'plumbline.db-wal'].map((f) => join(dir, f)).filter((f) => existsSync(f));
    const bytes = files.map((f) => readFileSync(f).toString('latin1')).join('');
    assert.ok(!bytes.includes(created.token));
    assert.ok(bytes.includes(hashToken(created.token)));
    store = await openStore({ stateDir: dir }, silentLogger);
    access = new AccessControl(store, BOOTSTRAP, () => now);
  });

  it('an expired token is refused from the moment it expires, saying so', async () => {
    const { token } = await access.createToken({ name: 'temp', role: 'viewer', expires: '1h' }, root);
    assert.equal((await access.authenticate(bearer(token), undefined)).name, 'temp');
    now = new Date(now.getTime() + 3_600_000);
    await assert.rejects(access.authenticate(bearer(token), undefined), { code: 'E_UNAUTHORIZED', message: `token temp expired at ${now.toISOString()}` });
    assert.equal((await access.listTokens()).find((t) => t.name === 'temp')?.state, 'expired');
    // An expired name may be given again.
    await access.createToken({ name: 'temp', role: 'viewer' }, root);
  });

  it('a revoked token is refused on its next request; the name may then be given to a new token', async () => {
    const first = await access.createToken({ name: 'laptop', role: 'admin' }, root);
    await assert.rejects(access.createToken({ name: 'laptop', role: 'viewer' }, root), { code: 'E_TOKEN_EXISTS' });
    const revoked = await access.revokeToken('laptop', { name: 'ci-admin', role: 'admin' });
    assert.equal(revoked.state, 'revoked');
    assert.equal(revoked.revokedBy, 'ci-admin');
    await assert.rejects(access.authenticate(bearer(first.token), undefined), { code: 'E_UNAUTHORIZED', message: /^token laptop was revoked at .* by ci-admin$/ });
    await assert.rejects(access.revokeToken('laptop', root), { code: 'E_TOKEN_REVOKED' });
    await assert.rejects(access.revokeToken('nobody', root), { code: 'E_TOKEN_NOT_FOUND' });
    await assert.rejects(access.revokeToken('bootstrap', root), { code: 'E_TOKEN_BOOTSTRAP' });
    const second = await access.createToken({ name: 'laptop', role: 'viewer' }, root);
    assert.equal((await access.authenticate(bearer(second.token), undefined)).role, 'viewer');
    await assert.rejects(access.authenticate(bearer(first.token), undefined), { code: 'E_UNAUTHORIZED', message: 'missing or invalid bearer token' });
    const types = (await access.audit({ limit: 3 })).map((e) => `${e.type} by ${e.actor}`);
    assert.deepEqual(types, ['token-created by bootstrap', 'token-revoked by ci-admin', 'token-created by bootstrap']);
  });

  it('refuses a bad request: a bad name, unit globs on anything but an approver, a bad expiry', async () => {
    const refused = [
      { name: 'bootstrap', role: 'admin' as const },
      { name: 'has space', role: 'viewer' as const },
      { name: 'v', role: 'viewer' as const, units: ['prod/*'] },
      { name: 'a', role: 'admin' as const, units: ['prod/*'] },
      { name: 'n', role: 'approver' as const, units: ['!prod/*'] },
      { name: 'e', role: 'viewer' as const, expires: 'soon' },
      { name: 'e', role: 'viewer' as const, expires: '500ms' },
    ];
    for (const request of refused) await assert.rejects(access.createToken(request, root), { code: 'E_BAD_REQUEST' }, JSON.stringify(request));
  });
});
