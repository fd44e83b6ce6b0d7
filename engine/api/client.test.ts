import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFakeEngine, REV_B, startFakeServer, TEST_TOKEN } from '../../testkit/fake-engine.ts';
import { ConflictError, NotFoundError, PlumblineError, ValidationError } from '../errors.ts';
import { ApiClient, resolveClient } from './client.ts';

describe('api client', () => {
  let server: { url: string; port: number; close(): Promise<void> };
  let client: ApiClient;
  before(async () => {
    server = await startFakeServer(createFakeEngine());
    client = new ApiClient(`${server.url}/`, TEST_TOKEN);
  });
  after(async () => {
    await server.close();
  });

  it('returns typed answers', async () => {
    const status = await client.status();
    assert.equal(status.source.lastFetchedRevision, REV_B);
    assert.deepEqual(
      (await client.listPlans('db')).map((p) => p.id),
      ['db-1'],
    );
    assert.equal((await client.getPlan('web-2')).plan.unit, 'web');
    assert.equal((await client.history('web', 1)).length, 1);
    assert.deepEqual(await client.sync(false), { revision: REV_B, scheduled: ['web'] });
    const approved = await client.approve('web-2');
    assert.equal(approved.status, 'Approved');
    assert.equal(approved.decidedBy, 'bootstrap', 'the token’s name decides');
  });

  it('turns error answers into PlumblineErrors with the server code, message and hint', async () => {
    await assert.rejects(client.approve('web-1'), (e: unknown) => {
      assert.ok(e instanceof ConflictError);
      assert.equal(e.code, 'E_PLAN_NOT_PENDING');
      assert.match(e.message, /Superseded/);
      assert.match(e.hint ?? '', /newer plan/);
      return true;
    });
    await assert.rejects(client.getPlan('nope/../x'), (e: unknown) => e instanceof NotFoundError && e.code === 'E_PLAN_NOT_FOUND');
    await assert.rejects(client.history('invalid'), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.problems[0]?.file, 'stacks/invalid/stack.yaml');
      return true;
    });
    await assert.rejects(new ApiClient(server.url, 'wrong').status(), { code: 'E_UNAUTHORIZED' });
  });

  it('reports a refused connection as E_DAEMON_UNREACHABLE', async () => {
    const other = await startFakeServer(createFakeEngine());
    await other.close();
    await assert.rejects(new ApiClient(other.url, TEST_TOKEN).status(), (e: unknown) => {
      assert.ok(e instanceof PlumblineError);
      assert.equal(e.code, 'E_DAEMON_UNREACHABLE');
      assert.match(e.message, /ECONNREFUSED/);
      assert.match(e.hint ?? '', /plumbline daemon/);
      assert.match(e.hint ?? '', /--server/);
      return true;
    });
  });

  it('never shows the token when inspected', async () => {
    const { inspect } = await import('node:util');
    assert.ok(!inspect(client).includes(TEST_TOKEN));
    assert.ok(!JSON.stringify(client).includes(TEST_TOKEN));
  });

  it('rejects a malformed server URL', () => {
    assert.throws(() => new ApiClient('localhost:7777', 't'), { code: 'E_BAD_SERVER_URL' });
    assert.throws(() => new ApiClient('not a url', 't'), { code: 'E_BAD_SERVER_URL' });
  });
});

describe('resolveClient', () => {
  let dir: string;
  const cwd = process.cwd();
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-client-'));
    process.chdir(dir); // no plumbline.yaml here
  });
  after(async () => {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers flags over the environment', async () => {
    const env = { PLUMBLINE_SERVER: 'http://env.example:1', PLUMBLINE_TOKEN: 'env-token' };
    assert.equal((await resolveClient({ server: 'http://flag.example:2/' }, env)).baseUrl, 'http://flag.example:2');
    assert.equal((await resolveClient({}, env)).baseUrl, 'http://env.example:1');
  });

  it('explains what is missing when nothing names a daemon', async () => {
    await assert.rejects(resolveClient({}, {}), (e: unknown) => {
      assert.ok(e instanceof PlumblineError);
      assert.equal(e.code, 'E_NO_SERVER');
      assert.match(e.hint ?? '', /--server/);
      assert.match(e.hint ?? '', /PLUMBLINE_SERVER/);
      assert.match(e.hint ?? '', /--config/);
      return true;
    });
    await assert.rejects(resolveClient({ server: 'http://x:1' }, {}), { code: 'E_NO_SERVER', message: /token/ });
  });
});
