import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConflictError, type PlumblineError } from '../engine/errors.ts';
import type { HistoryEvent, PlanStatus } from '../engine/model.ts';
import { secrets } from '../engine/secrets.ts';
import { silentLogger } from '../engine/log.ts';
import { openStore, type StoreConfig } from '../engine/store/open.ts';
import { PRUNE_BATCH } from '../engine/store/sql/prune.ts';
import type { SqlStore } from '../engine/store/sql/sql-store.ts';
import type { StoredPlan } from '../engine/store/types.ts';
import { repoRoot } from './files.ts';
import { historyEvent as event, increment, storedPlan, unitStatus } from './store-fixtures.ts';
import { waitFor } from './wait.ts';

/**
 * The store's behaviour, written once and run against each engine (SQLite in
 * test/store-sqlite.test.ts, a real PostgreSQL server in
 * test/store-postgres.test.ts): the same assertions, so both engines keep the
 * same contract.
 */

export interface StoreCase {
  store: SqlStore;
  /** What opened it: reopen with this (another store object, as a restarted daemon does). */
  config: StoreConfig;
  reopen(): Promise<SqlStore>;
  /** Raw SQL on the same database, bypassing the store (to stage what the store itself would never write). */
  exec(sqlText: string): Promise<void>;
  /** A store opened on what `store.backup(file)` wrote. */
  openBackup(file: string): Promise<SqlStore>;
  dispose(): Promise<void>;
}

/** A case on `config`, opened now; `dispose` closes its current store and removes `folders`. */
export async function openCase(
  config: StoreConfig,
  engine: Pick<StoreCase, 'exec' | 'openBackup'>,
  folders: string[],
): Promise<StoreCase> {
  const c: StoreCase = {
    store: await openStore(config, silentLogger),
    config,
    reopen: () => openStore(config, silentLogger),
    ...engine,
    async dispose() {
      await c.store.close().catch(() => undefined);
      for (const dir of folders) rmSync(dir, { recursive: true, force: true });
    },
  };
  return c;
}

export interface StoreHarness {
  /** A fresh, empty store; `prepare` runs on its state directory before the store opens it. */
  fresh(prepare?: (stateDir: string) => void): Promise<StoreCase>;
}

const JSON_STORE_FIXTURE = join(repoRoot, 'test', 'fixtures', 'json-store', 'store');

const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

export function describeStoreContract(engine: string, harness: () => StoreHarness): void {
  describe(`the ${engine} store`, () => {
    const cases: StoreCase[] = [];
    const fresh = async (prepare?: (stateDir: string) => void) => {
      const c = await harness().fresh(prepare);
      cases.push(c);
      return c;
    };
    after(async () => {
      for (const c of cases) await c.dispose();
    });

    it('keeps units by name, lists them in name order, and deletes one', async () => {
      const { store } = await fresh();
      await store.write(async (tx) => {
        await tx.putUnit(unitStatus('web'));
        await tx.putUnit(unitStatus('prod/vpc', { phase: 'Planning' }));
        await tx.putUnit(unitStatus('db'));
      });
      assert.equal((await store.getUnit('prod/vpc'))?.phase, 'Planning');
      assert.deepEqual((await store.listUnits()).map((u) => u.name), ['db', 'prod/vpc', 'web']);
      await store.write((tx) => tx.putUnit(unitStatus('prod/vpc', { phase: 'InSync', planId: 'p-1' })));
      assert.deepEqual(await store.getUnit('prod/vpc'), unitStatus('prod/vpc', { phase: 'InSync', planId: 'p-1', updatedAt: (await store.getUnit('prod/vpc'))!.updatedAt }));
      await store.write((tx) => tx.deleteUnit('db'));
      assert.equal(await store.getUnit('db'), undefined);
      assert.deepEqual((await store.listUnits()).map((u) => u.name), ['prod/vpc', 'web']);
    });

    it('lists plans newest first, by unit, status, change set and purpose, and pages back with before', async () => {
      const { store } = await fresh();
      const plans = [
        storedPlan('web-1', { createdAt: ago(5000), status: 'Superseded', changeSet: 'cs-1' }),
        storedPlan('web-2', { createdAt: ago(4000), status: 'Applied', changeSet: 'cs-2' }),
        storedPlan('db-1', { unit: 'db', createdAt: ago(3000), status: 'Pending', changeSet: 'cs-2' }),
        storedPlan('web-3', { createdAt: ago(2000), status: 'Pending', purpose: 'drift' }),
        storedPlan('web-4', { createdAt: ago(1000), status: 'Failed', purpose: 'change' }),
      ];
      await store.write(async (tx) => {
        for (const p of plans) await tx.putPlan(p);
      });
      const ids = (list: StoredPlan[]) => list.map((p) => p.id);
      assert.deepEqual(ids(await store.listPlans()), ['web-4', 'web-3', 'db-1', 'web-2', 'web-1']);
      assert.deepEqual(ids(await store.listPlans({ unit: 'web' })), ['web-4', 'web-3', 'web-2', 'web-1']);
      assert.deepEqual(ids(await store.listPlans({ status: ['Pending', 'Approved', 'Applying'] })), ['web-3', 'db-1']);
      assert.deepEqual(ids(await store.listPlans({ status: [] })), []);
      assert.deepEqual(ids(await store.listPlans({ changeSet: 'cs-2' })), ['db-1', 'web-2']);
      assert.deepEqual(ids(await store.listPlans({ purpose: 'drift' })), ['web-3']);
      // A plan without a purpose is a change.
      assert.deepEqual(ids(await store.listPlans({ purpose: 'change', unit: 'web' })), ['web-4', 'web-2', 'web-1']);
      assert.deepEqual(ids(await store.listPlans({ unit: 'web', limit: 2 })), ['web-4', 'web-3']);
      assert.deepEqual(ids(await store.listPlans({ unit: 'web', limit: 2, before: 'web-3' })), ['web-2', 'web-1']);
      assert.deepEqual(ids(await store.listPlans({ limit: 10, before: 'web-1' })), []);
      assert.deepEqual(await store.getPlan('db-1'), plans[2]);
      // Same time: the id decides, still newest first.
      await store.write(async (tx) => {
        const at = ago(100);
        await tx.putPlan(storedPlan('tie-a', { unit: 'tie', createdAt: at }));
        await tx.putPlan(storedPlan('tie-b', { unit: 'tie', createdAt: at }));
      });
      assert.deepEqual(ids(await store.listPlans({ unit: 'tie' })), ['tie-b', 'tie-a']);
      assert.deepEqual(ids(await store.listPlans({ unit: 'tie', before: 'tie-b' })), ['tie-a']);
    });

    it('a page that starts at a plan no longer kept is a typed not-found', async () => {
      const { store } = await fresh();
      await assert.rejects(store.listPlans({ before: 'gone' }), (error: PlumblineError) => {
        assert.equal(error.code, 'E_PAGE_START_NOT_FOUND');
        assert.match(error.hint ?? '', /without --before/);
        return true;
      });
    });

    it('updates a plan in place: its status column follows the record', async () => {
      const { store } = await fresh();
      await store.write((tx) => tx.putPlan(storedPlan('web-1', { status: 'Pending' })));
      await store.write(async (tx) => {
        const plan = await tx.getPlan('web-1');
        await tx.putPlan({ ...plan!, status: 'Approved', decidedBy: 'alice' });
      });
      assert.equal((await store.getPlan('web-1'))?.decidedBy, 'alice');
      assert.deepEqual((await store.listPlans({ status: ['Pending'] })).length, 0);
      assert.deepEqual((await store.listPlans({ status: ['Approved'] })).map((p) => p.id), ['web-1']);
    });

    it('lists change sets newest first, pages them, and finds them by an id prefix taken literally', async () => {
      const { store } = await fresh();
      await store.write(async (tx) => {
        await tx.putChangeSet({ id: 'cs-a_b', revision: '1'.repeat(40), createdAt: ago(3000), units: ['web'] });
        await tx.putChangeSet({ id: 'cs-axb', revision: '2'.repeat(40), createdAt: ago(2000), units: ['db'] });
        await tx.putChangeSet({ id: 'cs-a%c', revision: '3'.repeat(40), createdAt: ago(1000), units: ['web', 'db'] });
      });
      const ids = (list: Array<{ id: string }>) => list.map((c) => c.id);
      assert.deepEqual(ids(await store.listChangeSets()), ['cs-a%c', 'cs-axb', 'cs-a_b']);
      assert.deepEqual(ids(await store.listChangeSets({ limit: 1, before: 'cs-axb' })), ['cs-a_b']);
      assert.deepEqual(ids(await store.findChangeSets('cs-a_')), ['cs-a_b']);
      assert.deepEqual(ids(await store.findChangeSets('cs-a%')), ['cs-a%c']);
      assert.deepEqual(ids(await store.findChangeSets('cs-a', 2)), ['cs-a%c', 'cs-a_b']);
      assert.deepEqual(ids(await store.findChangeSets('CS-A')), []);
      const approved = { ...(await store.getChangeSet('cs-axb'))!, approvedBy: 'bob', approvedAt: ago(0) };
      await store.write((tx) => tx.putChangeSet(approved));
      assert.deepEqual(await store.getChangeSet('cs-axb'), approved);
    });

    it('numbers history events itself, in order, and pages them per unit, newest first', async () => {
      const { store } = await fresh();
      const first = await store.write(async (tx) => [
        await tx.appendHistory(event('web', 'one')),
        await tx.appendHistory(event('db', 'two')),
        await tx.appendHistory(event(null, 'three', { type: 'source-stalled', at: '2026-01-02T03:04:05.000Z' })),
      ]);
      assert.deepEqual(
        first.map((e) => e.seq),
        [first[0]!.seq, first[0]!.seq + 1, first[0]!.seq + 2],
      );
      assert.equal(first[2]!.at, '2026-01-02T03:04:05.000Z', 'a given time is kept');
      assert.ok(Date.parse(first[0]!.at) > Date.now() - 60_000, 'the store stamps the time');
      const more = await store.write(async (tx) => tx.appendHistory(event('web', 'four', { planId: 'web-1', startedAt: ago(10), finishedAt: ago(0) })));
      assert.ok(more.seq > first[2]!.seq);
      const web = await store.listHistory({ unit: 'web' });
      assert.deepEqual(web.map((e) => e.message), ['four', 'one']);
      assert.deepEqual(web[0], more);
      assert.deepEqual((await store.listHistory({ limit: 2 })).map((e) => e.message), ['four', 'three']);
      assert.deepEqual((await store.listHistory({ before: more.seq, limit: 2 })).map((e) => e.message), ['three', 'two']);
      assert.deepEqual((await store.listHistory({ unit: 'web', before: more.seq })).map((e) => e.message), ['one']);
    });

    it('lists at most 200 history events unless told otherwise', async () => {
      const { store } = await fresh();
      await store.write(async (tx) => {
        for (let i = 0; i < 205; i += 1) await tx.appendHistory(event('web', `event ${i}`));
      });
      assert.equal((await store.listHistory()).length, 200);
      assert.equal((await store.listHistory({ limit: 1000 })).length, 205);
      assert.equal((await store.listChangeSets()).length, 0);
    });

    it('keeps one source status and what each unit reads', async () => {
      const { store } = await fresh();
      assert.equal(await store.getSource(), undefined);
      const source = {
        url: 'file:///srv/infra.git',
        branch: 'main',
        phase: 'Ready' as const,
        reason: 'Reconciled',
        message: 'ok',
        lastFetchedRevision: 'd'.repeat(40),
        lastReconciledRevision: 'd'.repeat(40),
        lastFetchAt: ago(0),
        fetchCount: 3,
      };
      await store.write((tx) => tx.putSource(source));
      await store.write((tx) => tx.putSource({ ...source, fetchCount: 4 }));
      assert.deepEqual(await store.getSource(), { ...source, fetchCount: 4 });
      const reads = { unit: 'prod/vpc', revision: 'd'.repeat(40), entries: [{ path: 'stacks/prod/vpc', why: 'the stack folder' }], watch: [], notes: [] };
      await store.write((tx) => tx.putReads(reads));
      await store.write((tx) => tx.putReads({ ...reads, watch: ['modules/**'] }));
      assert.deepEqual(await store.getReads('prod/vpc'), { ...reads, watch: ['modules/**'] });
      assert.equal(await store.getReads('prod'), undefined);
      assert.deepEqual(await store.listReads(), [{ ...reads, watch: ['modules/**'] }]);
    });

    it('keeps API tokens by name, finds one by its hash, and refuses a hash another token has', async () => {
      const { store } = await fresh();
      const ci = { name: 'ci', role: 'approver' as const, units: ['prod/*'], createdAt: ago(0), createdBy: 'bootstrap', expiresAt: null, hash: 'a1'.repeat(32) };
      const alice = { name: 'alice@example.com', role: 'viewer' as const, createdAt: ago(0), createdBy: 'bootstrap', expiresAt: ago(-DAY), hash: 'b2'.repeat(32) };
      await store.write(async (tx) => {
        await tx.putToken(ci);
        await tx.putToken(alice);
      });
      assert.deepEqual(await store.getTokenByHash(ci.hash), ci);
      assert.equal(await store.getTokenByHash('c3'.repeat(32)), undefined);
      assert.deepEqual((await store.listTokens()).map((t) => t.name), ['alice@example.com', 'ci']);
      const revoked = { ...ci, revokedAt: ago(0), revokedBy: 'bootstrap' };
      await store.write(async (tx) => {
        assert.deepEqual(await tx.getToken('ci'), ci);
        await tx.putToken(revoked);
      });
      assert.deepEqual(await store.getTokenByHash(ci.hash), revoked);
      await assert.rejects(
        store.write((tx) => tx.putToken({ ...alice, name: 'mallory', hash: ci.hash })),
        (error: PlumblineError) => error.code === 'E_STORE_QUERY',
      );
      assert.equal((await store.listTokens()).length, 2);
    });

    it('never masks a token hash, even where a secret occurs in its digits', async () => {
      const { store } = await fresh();
      // Hex, as a hash is, and unlike anything else the suite writes.
      const secret = 'c0ffee5ec7e7a11';
      const hash = `${'0'.repeat(20)}${secret}${'0'.repeat(29)}`;
      secrets.add(secret);
      await store.write((tx) => tx.putToken({ name: 'ci', role: 'viewer', createdAt: ago(0), createdBy: 'bootstrap', expiresAt: null, hash }));
      assert.equal((await store.getTokenByHash(hash))?.hash, hash);
    });

    it('lists the decisions apart: the events that name their actor, newest first, paged by sequence number', async () => {
      const { store } = await fresh();
      const events = await store.write(async (tx) => [
        await tx.appendHistory(event('web', 'planned')),
        await tx.appendHistory(event('web', 'approved by ci', { type: 'approved', actor: 'ci', remote: '127.0.0.1' })),
        await tx.appendHistory(event(null, 'token bob created', { type: 'token-created', actor: 'bootstrap' })),
        await tx.appendHistory(event('web', 'applied', { type: 'applied' })),
      ]);
      const decisions = await store.listHistory({ decisions: true });
      assert.deepEqual(decisions.map((e) => e.message), ['token bob created', 'approved by ci']);
      assert.deepEqual(decisions[1], events[1]);
      assert.equal(decisions[1]!.remote, '127.0.0.1');
      assert.deepEqual((await store.listHistory({ decisions: true, before: events[2]!.seq })).map((e) => e.actor), ['ci']);
      assert.deepEqual((await store.listHistory({ decisions: true, limit: 1 })).map((e) => e.actor), ['bootstrap']);
      assert.equal((await store.listHistory()).length, 4);
    });

    it('counts units by phase, pending plans and runs by state, for the metrics', async () => {
      const { store } = await fresh();
      assert.deepEqual(await store.counts(), { unitsByPhase: {}, pendingPlans: 0, runs: { queued: 0, running: 0 } });
      await store.write(async (tx) => {
        await tx.putUnit(unitStatus('a', { phase: 'InSync' }));
        await tx.putUnit(unitStatus('b', { phase: 'InSync' }));
        await tx.putUnit(unitStatus('c', { phase: 'Failed' }));
        await tx.putPlan(storedPlan('a-1', { unit: 'a', status: 'Pending' }));
        await tx.putPlan(storedPlan('a-2', { unit: 'a', status: 'Applied' }));
        const run = { unit: 'a', kind: 'plan' as const, revision: 'a'.repeat(40), notBefore: ago(0), fence: 0, attempt: 0, createdAt: ago(0) };
        await tx.putRun({ ...run, id: 'r1', state: 'queued' });
        await tx.putRun({ ...run, id: 'r2', state: 'queued', unit: 'b' });
        await tx.putRun({ ...run, id: 'r3', state: 'running', unit: 'c' });
      });
      await store.write(async (tx) => tx.putUnit({ ...(await tx.getUnit('b'))!, phase: 'Drifted' }));
      assert.deepEqual(await store.counts(), { unitsByPhase: { InSync: 1, Drifted: 1, Failed: 1 }, pendingPlans: 1, runs: { queued: 2, running: 1 } });
    });

    it('migrating a store of the version before tokens fills in each unit’s phase and keeps its history', async () => {
      const c = await fresh();
      await c.store.write(async (tx) => {
        await tx.putUnit(unitStatus('web', { phase: 'Drifted' }));
        await tx.appendHistory(event('web', 'one'));
      });
      await c.store.close();
      // The schema as 0002 left it: undo 0004, then 0003.
      for (const statement of [
        "delete from kysely_migration where name in ('0003_tokens_audit', '0004_cluster')",
        'drop table members',
        'drop table leases',
        'drop table unit_outputs',
        'drop table plan_artifacts',
        'drop index runs_lease',
        'alter table runs drop column claimed_by',
        'alter table runs drop column lease_until',
        'drop table tokens',
        'drop index history_decisions',
        'alter table history drop column actor',
        'alter table units drop column phase',
      ]) {
        await c.exec(statement);
      }
      c.store = await c.reopen();
      assert.deepEqual((await c.store.counts()).unitsByPhase, { Drifted: 1 });
      assert.deepEqual((await c.store.listHistory()).map((e) => e.message), ['one']);
      assert.deepEqual(await c.store.listHistory({ decisions: true }), []);
      assert.deepEqual(await c.store.listTokens(), []);
    });

    it('a write is all or nothing: when its function throws, nothing of it is kept, and its error comes out unchanged', async () => {
      const { store } = await fresh();
      await store.write((tx) => tx.putUnit(unitStatus('web', { phase: 'InSync' })));
      const refusal = new ConflictError('E_PLAN_TRANSITION', 'changed my mind');
      const heard: HistoryEvent[] = [];
      store.onHistory = (e) => heard.push(e);
      await assert.rejects(
        store.write(async (tx) => {
          await tx.putUnit(unitStatus('web', { phase: 'Applying' }));
          await tx.putPlan(storedPlan('web-1', { status: 'Applying' }));
          await tx.appendHistory(event('web', 'apply started'));
          throw refusal;
        }),
        (error) => error === refusal,
      );
      assert.equal((await store.getUnit('web'))?.phase, 'InSync');
      assert.equal(await store.getPlan('web-1'), undefined);
      assert.deepEqual(await store.listHistory(), []);
      assert.deepEqual(heard, [], 'no event of a rolled-back write is announced');
      // The store still takes writes afterwards.
      await store.write((tx) => tx.appendHistory(event('web', 'after')));
      assert.equal(heard.length, 1);
    });

    it('a statement the database refuses rolls the write back and comes out typed', async () => {
      const { store } = await fresh();
      await assert.rejects(
        store.write(async (tx) => {
          await tx.putUnit(unitStatus('web'));
          await tx.putPlan({ ...storedPlan('web-1'), createdAt: undefined as unknown as string });
        }),
        (error: PlumblineError) => {
          assert.equal(error.code, 'E_STORE_QUERY');
          assert.equal(error.retry, 'stalled');
          assert.ok(error.cause, 'the driver error is kept as cause');
          return true;
        },
      );
      assert.equal(await store.getUnit('web'), undefined);
    });

    it('a write started from inside a write fails at once instead of waiting for itself', async () => {
      const { store } = await fresh();
      await assert.rejects(
        store.write(async (tx) => {
          await tx.putUnit(unitStatus('web'));
          await store.write((inner) => inner.putUnit(unitStatus('db')));
        }),
        (error: PlumblineError) => error.code === 'E_STORE_NESTED_WRITE',
      );
      assert.deepEqual(await store.listUnits(), []);
      await store.write((tx) => tx.putUnit(unitStatus('web')));
      assert.equal((await store.listUnits()).length, 1);
    });

    it('reads outside a write see only committed state; reads inside see the write', async () => {
      const { store } = await fresh();
      await store.write((tx) => tx.putUnit(unitStatus('web', { phase: 'InSync' })));
      await store.write(async (tx) => {
        await tx.putUnit(unitStatus('web', { phase: 'Applying' }));
        await tx.putPlan(storedPlan('web-1', { status: 'Applying' }));
        assert.equal((await tx.getUnit('web'))?.phase, 'Applying');
        assert.deepEqual((await tx.listPlans({ unit: 'web' })).map((p) => p.id), ['web-1']);
        assert.equal((await store.getUnit('web'))?.phase, 'InSync', 'not committed yet');
        assert.deepEqual(await store.listPlans({ unit: 'web' }), []);
      });
      assert.equal((await store.getUnit('web'))?.phase, 'Applying');
    });

    it('announces history events after the commit, in order', async () => {
      const { store } = await fresh();
      const heard: Array<{ seq: number; committed: boolean }> = [];
      store.onHistory = (e) => heard.push({ seq: e.seq, committed: false });
      let inside: number | undefined;
      const events = await store.write(async (tx) => {
        const a = await tx.appendHistory(event('web', 'a'));
        const b = await tx.appendHistory(event('web', 'b'));
        inside = heard.length;
        return [a, b];
      });
      assert.equal(inside, 0, 'nothing announced before the commit');
      assert.deepEqual(
        heard.map((h) => h.seq),
        events.map((e) => e.seq),
      );
      store.onHistory = () => {
        throw new Error('a listener that fails');
      };
      const after = await store.write((tx) => tx.appendHistory(event('web', 'c')));
      assert.equal((await store.listHistory({ limit: 1 }))[0]?.seq, after.seq, 'a failing listener does not undo the write');
    });

    it('serializes writers: concurrent read-modify-writes lose no update', async () => {
      const { store } = await fresh();
      await store.write((tx) => tx.putUnit(unitStatus('counter', { message: '0' })));
      await Promise.all(Array.from({ length: 25 }, () => increment(store)));
      assert.equal((await store.getUnit('counter'))?.message, '25');
      assert.equal((await store.listHistory({ unit: 'counter', limit: 100 })).length, 25);
    });

    it('serializes writers of two processes on the same store: no update lost, history numbered in commit order', async () => {
      const c = await fresh();
      await c.store.write((tx) => tx.putUnit(unitStatus('counter', { message: '0' })));
      const child = writerProcess(c.config, 150);
      // Start once the other process is writing, so the two really interleave.
      await waitFor(async () => Number((await c.store.getUnit('counter'))?.message) > 0, { what: 'the other process to write', timeoutMs: 30_000, intervalMs: 20 });
      for (let i = 0; i < 100; i += 1) await increment(c.store);
      await child;
      assert.equal((await c.store.getUnit('counter'))?.message, '250');
      // Each increment wrote its event in the same transaction: sequence order is commit order.
      const events = (await c.store.listHistory({ unit: 'counter', limit: 1000 })).reverse();
      assert.deepEqual(
        events.map((e) => e.message),
        Array.from({ length: 250 }, (_, i) => `counter ${i + 1}`),
      );
    });

    it('masks every record before writing it; identifiers are left alone', async () => {
      const { store } = await fresh();
      const secret = `s3cr3t-${Math.random().toString(36).slice(2, 10)}`;
      secrets.add(secret);
      // An identifier Plumbline made is never rewritten, even when a secret happens to appear in it.
      await store.write((tx) => tx.putPlan(storedPlan(`web-${secret}`, { inputsHash: secret })));
      assert.equal((await store.getPlan(`web-${secret}`))?.inputsHash, secret);
      await store.write(async (tx) => {
        const unit = await tx.putUnit(unitStatus('web', { message: `failed with ${secret}` }));
        assert.equal(unit.message, 'failed with (sensitive)', 'the stored record is returned');
        await tx.putPlan(storedPlan('web-1', { warnings: [`token ${secret}`], error: { code: 'E_X', message: secret } }));
        await tx.putChangeSet({ id: 'cs-1', revision: '1'.repeat(40), createdAt: ago(0), units: ['web'], approvedBy: secret });
        await tx.appendHistory(event('web', `applied with ${secret}`));
        await tx.putSource({ url: `https://x:${secret}@git.example.com/infra.git`, branch: 'main', phase: 'Ready', reason: 'r', message: secret, lastFetchedRevision: null, lastReconciledRevision: null, lastFetchAt: null, fetchCount: 0 });
        await tx.putReads({ unit: 'web', revision: '1'.repeat(40), entries: [], watch: [], notes: [`could not follow ${secret}`] });
      });
      const everything = JSON.stringify([
        await store.getUnit('web'),
        await store.getPlan('web-1'),
        await store.getChangeSet('cs-1'),
        await store.listHistory(),
        await store.getSource(),
        await store.getReads('web'),
      ]);
      assert.doesNotMatch(everything, new RegExp(secret));
      assert.match(everything, /\(sensitive\)/);
    });

    it('prunes old plans, except what may still be applied, what a unit points at, and each unit’s last applied; then change sets and events nothing needs', async () => {
      const { store } = await fresh();
      const old = (days: number) => ago(days * DAY);
      const plan = (id: string, unit: string, status: PlanStatus, createdAt: string, changeSet?: string) =>
        storedPlan(id, { unit, status, createdAt, ...(changeSet ? { changeSet } : {}) });
      await store.write(async (tx) => {
        await tx.putUnit(unitStatus('a', { planId: 'a2' }));
        await tx.putUnit(unitStatus('b', { phase: 'Failed', planId: 'b1' }));
        for (const p of [
          plan('a1', 'a', 'Applied', old(200), 'cs-old-1'),
          plan('a2', 'a', 'Applied', old(150), 'cs-old-2'),
          plan('a3', 'a', 'Superseded', old(140)),
          plan('a4', 'a', 'Pending', old(130)),
          plan('a5', 'a', 'Approved', old(129)),
          plan('a6', 'a', 'Applying', old(128)),
          plan('a7', 'a', 'NoChanges', old(127)),
          plan('a8', 'a', 'NoChanges', old(126)),
          plan('a9', 'a', 'Superseded', old(1)),
          plan('b1', 'b', 'Failed', old(120)),
          plan('b2', 'b', 'Failed', old(119)),
          plan('c1', 'c', 'Rejected', old(100)),
        ]) {
          await tx.putPlan(p);
        }
        await tx.putChangeSet({ id: 'cs-old-1', revision: '1'.repeat(40), createdAt: old(200), units: ['a'] });
        await tx.putChangeSet({ id: 'cs-old-2', revision: '2'.repeat(40), createdAt: old(150), units: ['a'] });
        await tx.putChangeSet({ id: 'cs-new', revision: '3'.repeat(40), createdAt: old(1), units: [] });
        await tx.appendHistory(event('a', 'of a pruned plan', { planId: 'a1', at: old(500) }));
        await tx.appendHistory(event('a', 'of a kept plan', { planId: 'a2', at: old(500) }));
        await tx.appendHistory(event(null, 'of no plan', { at: old(450) }));
        await tx.appendHistory(event('a', 'recent', { planId: 'a1', at: old(2) }));
      });
      const result = await store.prune({ plansBefore: new Date(Date.now() - 90 * DAY), historyBefore: new Date(Date.now() - 400 * DAY) });
      assert.deepEqual(
        { ...result, runIds: [...result.runIds].sort() },
        { plans: 5, events: 2, changeSets: 1, runIds: ['run-a1', 'run-a3', 'run-a7', 'run-b2', 'run-c1'] },
      );
      assert.deepEqual(
        (await store.listPlans()).map((p) => p.id).sort(),
        ['a2', 'a4', 'a5', 'a6', 'a8', 'a9', 'b1'],
      );
      assert.deepEqual((await store.listChangeSets()).map((c) => c.id), ['cs-new', 'cs-old-2']);
      assert.deepEqual((await store.listHistory()).map((e) => e.message), ['recent', 'of a kept plan']);
      const again = await store.prune({ plansBefore: new Date(Date.now() - 90 * DAY), historyBefore: new Date(Date.now() - 400 * DAY) });
      assert.deepEqual(again, { plans: 0, events: 0, changeSets: 0, runIds: [] }, 'nothing more to prune');
    });

    it('prunes in batches: more rows than one batch holds all go, each batch its own transaction', async () => {
      const { store } = await fresh();
      const count = PRUNE_BATCH * 2 + 37;
      await store.write(async (tx) => {
        for (let i = 0; i < count; i += 1) {
          await tx.putPlan(storedPlan(`bulk-${String(i).padStart(5, '0')}`, { unit: 'bulk', status: 'Superseded', createdAt: ago(100 * DAY + i * 1000) }));
          await tx.appendHistory(event('bulk', `old ${i}`, { at: ago(500 * DAY + i * 1000) }));
        }
        await tx.putPlan(storedPlan('bulk-last', { unit: 'bulk', status: 'Applied', createdAt: ago(200 * DAY) }));
      });
      const result = await store.prune({ plansBefore: new Date(Date.now() - 90 * DAY), historyBefore: new Date(Date.now() - 400 * DAY) });
      assert.equal(result.plans, count);
      assert.equal(result.events, count);
      assert.equal(new Set(result.runIds).size, count);
      assert.deepEqual((await store.listPlans({ unit: 'bulk' })).map((p) => p.id), ['bulk-last']);
    });

    it('seals outputs and plan artifacts under the key file: none in clear in the database, a changed byte refused, another key or none refused at open', async () => {
      const c = await fresh();
      const outputs = { password: { value: 'hunter2-sealed', sensitive: true }, region: { value: 'eu-west-1', sensitive: false } };
      await c.store.write(async (tx) => {
        await tx.putOutputs('db', outputs);
        await tx.putArtifacts('db-1', new Map([['tfplan', Buffer.from('binary plan hunter2-sealed')]]));
      });
      // Rows still holding a value in clear survive this delete: none must.
      await c.exec("delete from unit_outputs where record not like '%hunter2-sealed%' and record not like '%eu-west-1%'");
      assert.equal(await c.store.getOutputs('db'), undefined, 'the outputs record holds no value in clear');
      await c.store.write((tx) => tx.putOutputs('db', outputs));

      await c.store.close();
      c.store = await c.reopen();
      assert.deepEqual(await c.store.getOutputs('db'), outputs);
      assert.equal((await c.store.getArtifacts('db-1')).get('tfplan')?.toString(), 'binary plan hunter2-sealed');

      await c.exec("update unit_outputs set record = 'sealed:UExTMQ' || substr(record, 13)");
      await assert.rejects(c.store.getOutputs('db'), (error: PlumblineError) => error.code === 'E_STORE_SEALED_DAMAGED' && !!error.hint);

      const keyFile = join(c.config.stateDir, 'sealing.key');
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const key = readFileSync(keyFile);
      writeFileSync(keyFile, `${'ab'.repeat(32)}\n`);
      await assert.rejects(openStore(c.config, silentLogger), (error: PlumblineError) => error.code === 'E_SEALING_KEY_MISMATCH' && /same key file/.test(error.hint ?? ''));
      rmSync(keyFile);
      await assert.rejects(openStore(c.config, silentLogger), (error: PlumblineError) => error.code === 'E_SEALING_KEY_MISSING' && error.message.includes(keyFile));
      assert.equal(existsSync(keyFile), false, 'no new key is made for a store that has one');
      writeFileSync(keyFile, key, { mode: 0o644 });
      await assert.rejects(openStore(c.config, silentLogger), (error: PlumblineError) => error.code === 'E_SEALING_KEY_OPEN');
      chmodSync(keyFile, 0o600);
    });

    it('reopens with nothing to migrate, its data intact, and history numbers continuing (never reused after a prune)', async () => {
      const c = await fresh();
      await c.store.write(async (tx) => {
        await tx.putUnit(unitStatus('web'));
        await tx.appendHistory(event('web', 'one'));
        await tx.appendHistory(event('web', 'two', { at: ago(0) }));
      });
      const [newest] = await c.store.listHistory({ limit: 1 });
      // The newest events go (a retention of nothing): their numbers must not come back.
      await c.store.prune({ plansBefore: new Date(0), historyBefore: new Date(Date.now() + DAY) });
      assert.deepEqual(await c.store.listHistory(), []);
      await c.store.close();
      c.store = await c.reopen();
      assert.equal((await c.store.getUnit('web'))?.name, 'web');
      const next = await c.store.write((tx) => tx.appendHistory(event('web', 'three')));
      assert.ok(next.seq > newest!.seq, `sequence ${next.seq} continues after ${newest!.seq}`);
    });

    it('refuses a database written by a newer Plumbline, naming what it does not know', async () => {
      const c = await fresh();
      await c.store.close();
      await c.exec("insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')");
      await assert.rejects(c.reopen(), (error: PlumblineError) => {
        assert.equal(error.code, 'E_STORE_TOO_NEW');
        assert.match(error.message, /9999_from_the_future/);
        assert.match(error.hint ?? '', /newer|backup/);
        return true;
      });
      await c.exec("delete from kysely_migration where name = '9999_from_the_future'");
      c.store = await c.reopen();
    });

    it('backs up a consistent copy while another process writes', async () => {
      const c = await fresh();
      await c.store.write((tx) => tx.putUnit(unitStatus('counter', { message: '0' })));
      const writer = writerProcess(c.config, 300);
      await waitFor(async () => Number((await c.store.getUnit('counter'))?.message) >= 5, { what: 'the other process to write', timeoutMs: 30_000, intervalMs: 20 });
      const file = join(c.config.stateDir, 'backup.db');
      // A backup taken while the writer runs: the counter and its events must agree, whatever instant it shows.
      await c.store.backup(file);
      await writer;
      const copy = await c.openBackup(file);
      try {
        const counter = Number((await copy.getUnit('counter'))?.message);
        const events = await copy.listHistory({ unit: 'counter', limit: 1000 });
        assert.ok(counter >= 5, `the copy holds what was committed before it (${counter})`);
        assert.equal(events.length, counter, 'one event per committed increment, no more, no less');
      } finally {
        await copy.close();
      }
    });

    it('imports the store a JSON-file version left in the state directory, once, and moves its folder aside', async () => {
      const c = await fresh((stateDir) => cpSync(JSON_STORE_FIXTURE, join(stateDir, 'store'), { recursive: true }));
      const { store } = c;
      await assertFixtureImported(store);
      const stateDir = c.config.stateDir;
      assert.equal(existsSync(join(stateDir, 'store')), false, 'the old folder is gone from its place');
      const aside = readdirSync(stateDir).filter((n) => n.startsWith('store.imported-'));
      assert.equal(aside.length, 1);
      assert.deepEqual(readdirSync(join(stateDir, aside[0]!, 'plans')).sort(), readdirSync(join(JSON_STORE_FIXTURE, 'plans')).sort(), 'moved, not deleted');
      const next = await store.write((tx) => tx.appendHistory(event('hello', 'after the import')));
      assert.equal(next.seq, 12, 'numbering continues after the imported events');

      // A crash between the import's commit and the move: the folder is back in place. Never imported twice.
      await store.close();
      renameSync(join(stateDir, aside[0]!), join(stateDir, 'store'));
      c.store = await c.reopen();
      await assertFixtureImported(c.store, 12);
      assert.equal(existsSync(join(stateDir, 'store')), false);
    });

    it('imports what parses of a JSON-file store with a torn history line and a damaged plan', async () => {
      const c = await fresh((stateDir) => {
        const dir = join(stateDir, 'store');
        cpSync(JSON_STORE_FIXTURE, dir, { recursive: true });
        appendFileSync(join(dir, 'history.jsonl'), '{"seq":12,"at":"2026-11-30T12:15:00.000Z","type":"plann');
        writeFileSync(join(dir, 'plans', 'gate-c062eaf9-bf6d70dff7.json'), '{"id": "gate-c062eaf9-bf6d70dff7", "unit": "ga');
      });
      assert.equal(await c.store.getPlan('gate-c062eaf9-bf6d70dff7'), undefined);
      assert.equal((await c.store.listPlans()).length, 3);
      assert.equal((await c.store.listHistory({ limit: 100 })).length, 11);
      assert.equal((await c.store.getUnit('gate'))?.planId, 'gate-c062eaf9-bf6d70dff7', 'the unit still names it: the engine plans it again');
    });
  });
}

async function assertFixtureImported(store: SqlStore, events = 11): Promise<void> {
  assert.deepEqual(
    (await store.listUnits()).map((u) => [u.name, u.phase]),
    [
      ['gate', 'AwaitingApproval'],
      ['hello', 'InSync'],
      ['prod/vpc', 'InSync'],
    ],
  );
  assert.deepEqual(
    (await store.listPlans({ unit: 'hello' })).map((p) => [p.id, p.status]),
    [
      ['hello-44ffdbff-01d0234c79', 'Applied'],
      ['hello-c062eaf9-59626f9fda', 'Applied'],
    ],
  );
  const pending = await store.listPlans({ status: ['Pending'] });
  assert.deepEqual(
    pending.map((p) => [p.id, p.runId, p.changeSet]),
    [['gate-c062eaf9-bf6d70dff7', '20261130121452-0f236d27', 'cs-c062eaf9289c']],
  );
  assert.deepEqual((await store.listChangeSets()).map((c) => [c.id, c.units.length]), [
    ['cs-44ffdbff8100', 1],
    ['cs-c062eaf9289c', 3],
  ]);
  assert.equal((await store.getPlan('hello-44ffdbff-01d0234c79'))?.decidedBy, 'policy:auto-unless-destroy');
  assert.equal((await store.getReads('prod/vpc'))?.entries[0]?.path, 'stacks/prod/vpc');
  assert.equal((await store.getSource())?.lastReconciledRevision, '44ffdbff8100d9d31c92fabe46ce40c0f20f9155');
  const history = await store.listHistory({ limit: 100 });
  assert.equal(history.length, events);
  const imported = history.filter((e) => e.seq <= 11).reverse();
  assert.deepEqual(
    imported.map((e) => e.seq),
    Array.from({ length: 11 }, (_, i) => i + 1),
  );
  assert.deepEqual(imported.slice(0, 2).map((e) => [e.type, e.unit]), [
    ['planned', 'hello'],
    ['apply-started', 'hello'],
  ]);
}

/** Another process incrementing the same counter `count` times (testkit/store-writer.ts). */
export function writerProcess(config: StoreConfig, count: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'testkit', 'store-writer.ts'), JSON.stringify(config), String(count)], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolvePromise, reject) =>
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`the writer process failed (${code}): ${err.slice(-2000)}`)))),
  );
}
