import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { TestRepo } from '../../testkit/git-repo.ts';
import { waitFor } from '../../testkit/wait.ts';
import { normalizeConfig } from '../config/load.ts';
import { PlumblineError } from '../errors.ts';
import { processCounts } from '../exec.ts';
import { silentLogger } from '../log.ts';
import type { PlanStatus, UnitStatus } from '../model.ts';
import { statePaths } from '../paths.ts';
import type { ApplyRequest, PlanOutcome, PlanRequest, Provider } from '../provider.ts';
import { GitSource } from '../source/git-source.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/types.ts';
import { Controller } from './controller.ts';
import { movePlan, PLAN_TRANSITIONS } from './transitions.ts';
import type { Actor } from '../auth/types.ts';

/** A person's approver token, for every unit unless `units` says otherwise. */
const person = (name: string, extra: Partial<Actor> = {}): Actor => ({ name, role: 'approver', ...extra });

/**
 * The reconciler in process: a real git repository, the real SQL store, and
 * a fake of our own Provider seam whose plans say what the test wants
 * (`vars.changes`, `vars.destroys`, `vars.fail`). Every transition, supersede,
 * review window, dependency wait and crash recovery, fast.
 */

interface Behaviour {
  /** Fail the next plans of a unit with this retry class. */
  failPlan?: Map<string, 'transient' | 'stalled'>;
  /** Hold applies of a unit until released. */
  holdApply?: Map<string, Promise<void>>;
}

function fakeProvider(calls: string[], behaviour: Behaviour): Provider {
  return {
    async plan(request: PlanRequest): Promise<PlanOutcome> {
      const unit = request.unit.name;
      calls.push(`plan ${unit}`);
      const failure = behaviour.failPlan?.get(unit);
      if (failure) throw new PlumblineError('E_TOOL_FAILED', `${unit} cannot be planned`, { retry: failure, hint: 'fix it' });
      const changes = Number(request.vars.changes ?? 0);
      const destroys = Number(request.vars.destroys ?? 0);
      const hasChanges = changes + destroys > 0;
      return {
        summary: { add: changes, change: 0, destroy: destroys, replace: 0 },
        hasChanges,
        destructive: destroys > 0,
        document: { unit, changes },
        rendered: `${unit}: +${changes} -${destroys}\n`,
        fingerprint: `${unit}:${changes}:${destroys}:${JSON.stringify(request.vars.out ?? null)}`,
        ...(hasChanges ? {} : { outputs: { value: { value: request.vars.out ?? unit, sensitive: false } } }),
      };
    },
    async apply(request: ApplyRequest) {
      calls.push(`apply ${request.unit.name}`);
      await behaviour.holdApply?.get(request.unit.name);
      return { outputs: { value: { value: request.vars.out ?? request.unit.name, sensitive: false } }, message: 'applied' };
    },
  };
}

const stack = (name: string, vars: Record<string, unknown>, extra = ''): Record<string, string> => ({
  [`stacks/${name}/stack.yaml`]: `kind: terraform\n${extra}vars: ${JSON.stringify(vars)}\n`,
  [`stacks/${name}/main.tf`]: '',
});

describe('the reconciler against a fake provider', () => {
  let dir: string;
  let repo: TestRepo;
  let store: Store;
  let controller: Controller;
  let calls: string[];
  let behaviour: Behaviour;

  async function start(options: { approval?: string; concurrency?: number; beforeStart?: () => Promise<void> } = {}): Promise<void> {
    const { config } = normalizeConfig(
      { source: { url: repo.url, interval: '1h' }, stateDir: join(dir, 'state'), defaults: { approval: options.approval ?? 'auto' }, ...(options.concurrency ? { concurrency: options.concurrency } : {}) },
      null,
    );
    const paths = statePaths(config!.stateDir);
    store = await openStore(config!, silentLogger);
    const source = new GitSource({ url: repo.url, branch: 'main', mirrorDir: paths.mirror, snapshotsDir: paths.snapshots, log: silentLogger });
    controller = new Controller({ config: config!, store, source, providers: new Map([['terraform', fakeProvider(calls, behaviour)]]), paths, log: silentLogger });
    await options.beforeStart?.();
    await controller.recover();
    await controller.start();
  }

  async function stop(): Promise<void> {
    await controller.stop();
    await store.close();
  }

  function unit(name: string, phase: UnitStatus['phase'], revision?: string): Promise<UnitStatus> {
    return waitFor(
      async () => {
        const u = await store.getUnit(name);
        return u?.phase === phase && (!revision || u.lastAttemptedRevision === revision) ? u : undefined;
      },
      { what: `${name} ${phase}`, timeoutMs: 20_000, intervalMs: 20 },
    );
  }

  async function events(name: string): Promise<string[]> {
    return (await store.listHistory({ unit: name, limit: 1000 })).reverse().map((e) => e.type);
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-reconciler-'));
    repo = new TestRepo(join(dir, 'repo'));
    calls = [];
    behaviour = {};
  });
  afterEach(async () => {
    await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });
  after(() => undefined);

  it('a commit plans and applies automatically; the unit is InSync with its events in order', async () => {
    const head = repo.commit(stack('web', { changes: 1 }));
    await start();
    const web = await unit('web', 'InSync', head);
    assert.equal(web.reason, 'Applied');
    assert.equal(web.lastAppliedRevision, head);
    assert.deepEqual(await events('web'), ['planned', 'apply-started', 'applied']);
    const [plan] = await store.listPlans({ unit: 'web' });
    assert.equal(plan!.status, 'Applied');
    assert.equal(plan!.decidedBy, 'policy:auto');
    assert.deepEqual(await store.listRuns(), [], 'the queue is empty once everything ran');
  });

  it('an approved plan is applied in its own slot at once, claimed by this member, before other queued plans', async () => {
    let release: () => void = () => undefined;
    behaviour.holdApply = new Map([['a', new Promise<void>((resolve) => (release = resolve))]]);
    const head = repo.commit({ ...stack('a', { changes: 1 }), ...stack('b', { changes: 1 }) });
    await start({ concurrency: 1 });
    try {
      await waitFor(() => calls.includes('apply a'), { what: 'the apply of a', timeoutMs: 20_000, intervalMs: 20 });
      // b's plan was queued before a's apply existed: a's apply did not wait behind it.
      assert.deepEqual(calls, ['plan a', 'apply a']);
      const applying = (await store.listRuns({ unit: 'a' })).find((r) => r.kind === 'apply');
      assert.equal(applying?.state, 'running');
      assert.equal(applying?.claimedBy, controller.member);
      assert.equal((await store.listRuns({ unit: 'b' }))[0]?.state, 'queued', 'the slot is still taken by the apply');
    } finally {
      release();
    }
    await unit('a', 'InSync', head);
    await unit('b', 'InSync', head);
    assert.deepEqual(calls, ['plan a', 'apply a', 'plan b', 'apply b']);
    assert.deepEqual(await events('a'), ['planned', 'apply-started', 'applied']);
    assert.deepEqual(await store.listRuns(), []);
  });

  it('a plan starts in the transaction that claims it: no transaction of its own before the tool runs', async () => {
    const head = repo.commit(stack('web', { changes: 1 }));
    /** What each store transaction wrote, in order: runs claimed and unit phases. */
    const writes: string[][] = [];
    await start({
      beforeStart: async () => {
        const write = store.write.bind(store);
        store.write = (fn) =>
          write((tx) => {
            const wrote: string[] = [];
            writes.push(wrote);
            const watched = Object.assign(Object.create(tx) as typeof tx, {
              putRun: (run: Parameters<typeof tx.putRun>[0]) => {
                wrote.push(`run ${run.kind} ${run.state}`);
                return tx.putRun(run);
              },
              putUnit: (unit: Parameters<typeof tx.putUnit>[0]) => {
                wrote.push(`unit ${unit.phase}`);
                return tx.putUnit(unit);
              },
            });
            return fn(watched);
          });
      },
    });
    await unit('web', 'InSync', head);
    const claim = writes.findIndex((w) => w.includes('run plan running'));
    assert.deepEqual(writes[claim], ['run plan running', 'unit Planning'], 'the claim and the start, together');
    assert.ok(writes.slice(claim + 1).every((w) => !w.includes('unit Planning')), 'no second write of the start');
    // The next write is the plan's record, with its apply approved and claimed.
    assert.ok(writes[claim + 1]!.includes('run apply running'), writes[claim + 1]!.join(', '));
    assert.deepEqual(await events('web'), ['planned', 'apply-started', 'applied']);
  });

  it('a manual plan waits; approval applies exactly it; a second approval is a conflict', async () => {
    const head = repo.commit(stack('web', { changes: 2 }, 'approval: manual\n'));
    await start();
    const waiting = await unit('web', 'AwaitingApproval', head);
    assert.equal(waiting.reason, 'ApprovalRequired');
    assert.deepEqual(calls, ['plan web']);
    await controller.approve(waiting.planId!, person('alice'));
    await unit('web', 'InSync', head);
    assert.deepEqual(calls, ['plan web', 'apply web']);
    await assert.rejects(controller.approve(waiting.planId!, person('alice')), { code: 'E_PLAN_NOT_PENDING' });
    assert.deepEqual(await events('web'), ['planned', 'awaiting-approval', 'approved', 'apply-started', 'applied']);
  });

  it('a sync asked while the daemon starts waits until it has started, then polls', async () => {
    const head = repo.commit(stack('web', { changes: 1 }));
    let synced: Promise<unknown> | undefined;
    let settledEarly = false;
    await start({
      beforeStart: async () => {
        // As the API does: it answers before recovery and start have run.
        synced = controller.sync({ allowRewrite: false }, person('alice'));
        void synced.then(() => (settledEarly = true), () => (settledEarly = true));
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(settledEarly, false, 'the sync waited for the start');
        assert.deepEqual(calls, [], 'nothing was planned before the start');
      },
    });
    await synced;
    await unit('web', 'InSync', head);
  });

  it('a newer commit supersedes a waiting plan, and its apply can no longer be approved', async () => {
    const first = repo.commit(stack('web', { changes: 1 }, 'approval: manual\n'));
    await start();
    const waiting = await unit('web', 'AwaitingApproval', first);
    const second = repo.commit(stack('web', { changes: 3 }, 'approval: manual\n'));
    await controller.sync({ allowRewrite: false }, person('alice'));
    // The reconcile notes the new commit on the unit before its plan runs: wait for the new plan.
    const next = await waitFor(
      async () => {
        const u = await unit('web', 'AwaitingApproval', second);
        return u.planId !== waiting.planId ? u : undefined;
      },
      { what: 'web awaiting approval of its new plan', timeoutMs: 20_000, intervalMs: 20 },
    );
    assert.notEqual(next.planId, waiting.planId);
    assert.equal((await store.getPlan(waiting.planId!))!.status, 'Superseded');
    await assert.rejects(controller.approve(waiting.planId!, person('bob')), { code: 'E_PLAN_NOT_PENDING' });
  });

  it('auto-unless-destroy waits for a destructive plan; a rejection stalls the unit until a new commit', async () => {
    const head = repo.commit(stack('web', { destroys: 1 }));
    await start({ approval: 'auto-unless-destroy' });
    const waiting = await unit('web', 'AwaitingApproval', head);
    await controller.reject(waiting.planId!, person('carol'), 'not today');
    const stalled = await unit('web', 'Stalled');
    assert.equal(stalled.reason, 'PlanRejected');
    assert.match(stalled.message, /rejected by carol: not today/);
    assert.deepEqual(calls, ['plan web']);
  });

  it('a review window announces the plan and applies it when it ends', async () => {
    const head = repo.commit(stack('web', { changes: 1 }, 'applyAfter: 300ms\n'));
    await start();
    const announced = await unit('web', 'AwaitingApproval', head);
    assert.equal(announced.reason, 'ReviewWindow');
    assert.ok((await store.getPlan(announced.planId!))!.applyAt);
    const applied = await unit('web', 'InSync', head);
    assert.equal((await store.getPlan(applied.planId!))!.decidedBy, 'policy:applyAfter');
  });

  it('a dependant waits for its upstream, then plans against the applied outputs', async () => {
    const head = repo.commit({
      ...stack('net', { changes: 1, out: 'cidr-1' }, 'approval: manual\n'),
      ...stack('app', { changes: 1, cidr: { fromOutput: 'net.value' } }, 'dependsOn: [net]\n'),
    });
    await start();
    const net = await unit('net', 'AwaitingApproval', head);
    const app = await unit('app', 'Pending');
    assert.equal(app.reason, 'WaitingForDependencies');
    assert.match(app.message, /waits for net \(AwaitingApproval\)/);
    assert.ok(!calls.includes('plan app'));
    await controller.approve(net.planId!, person('alice'));
    await unit('app', 'InSync', head);
    assert.deepEqual(calls, ['plan net', 'apply net', 'plan app', 'apply app']);
  });

  it('a failing upstream blocks its dependants, naming it; unrelated units go on', async () => {
    behaviour.failPlan = new Map([['net', 'stalled']]);
    const head = repo.commit({ ...stack('net', { changes: 1 }), ...stack('app', { changes: 1 }, 'dependsOn: [net]\n'), ...stack('other', { changes: 1 }) });
    await start();
    const net = await unit('net', 'Failed', head);
    assert.match(net.message, /net cannot be planned \(hint: fix it\)/);
    const app = await unit('app', 'Blocked');
    assert.match(app.message, /blocked by net \(Failed: PlanFailed\)/);
    await unit('other', 'InSync', head);
    assert.deepEqual(await store.listRuns({ unit: 'net' }), [], 'a stalled failure is not retried');
  });

  it('a transient failure is retried later, with backoff, from the queue', async () => {
    behaviour.failPlan = new Map([['web', 'transient']]);
    const head = repo.commit(stack('web', { changes: 1 }));
    await start();
    await unit('web', 'Failed', head);
    const [retry] = await store.listRuns({ unit: 'web' });
    assert.equal(retry!.kind, 'plan');
    assert.equal(retry!.attempt, 1);
    assert.ok(Date.parse(retry!.notBefore) - Date.now() > 5_000, 'the retry waits out its backoff');
  });

  it('an apply cut off by a crash is Interrupted at the next start and the unit planned again, never applied blindly', async () => {
    let release!: () => void;
    behaviour.holdApply = new Map([['web', new Promise<void>((r) => (release = r))]]);
    const head = repo.commit(stack('web', { changes: 1 }));
    await start();
    await unit('web', 'Applying', head);
    await waitFor(() => calls.includes('apply web'), { what: 'the apply to run' });
    // A crash: the process is gone, its store and queue stay as they were on disk.
    const plan = (await store.listPlans({ unit: 'web' }))[0]!;
    assert.equal(plan.status, 'Applying');
    release();
    await store.close();
    calls.length = 0;
    behaviour.holdApply = undefined;
    const crashed = controller;
    await start();
    assert.equal((await store.getPlan(plan.id))!.status, 'Interrupted');
    // Planned again: the fake plans changes again, and applies the new plan, not the interrupted one.
    await unit('web', 'InSync', head);
    assert.deepEqual(calls, ['plan web', 'apply web']);
    assert.ok((await events('web')).includes('interrupted'));
    // The crashed worker's apply ends against a closed store: it gives up once stopped, writing nothing.
    await crashed.stop();
  });

  it('a token limited to some units decides only on them, a change set’s dependants included; each decision records the token and its address', async () => {
    repo.commit({ ...stack('net', { changes: 1 }), ...stack('app', { changes: 1 }, 'dependsOn: [net]\n') });
    await start();
    await unit('app', 'InSync');
    // A commit that touches net alone: app is downstream of it, in its change set.
    const head = repo.commit(stack('net', { changes: 2, out: 'cidr-2' }, 'approval: manual\n'));
    await controller.sync({ allowRewrite: false }, person('alice'));
    const net = await unit('net', 'AwaitingApproval', head);
    const appOnly = person('app-team', { units: ['app'], remote: '10.0.0.5' });
    await assert.rejects(controller.approve(net.planId!, appOnly), { code: 'E_FORBIDDEN', message: 'token app-team may approve plans only on units matching app; not on net' });
    await assert.rejects(controller.reject(net.planId!, appOnly, 'no'), { code: 'E_FORBIDDEN' });
    const cs = `cs-${head.slice(0, 12)}`;
    assert.deepEqual((await store.getChangeSet(cs))!.units, ['net']);
    // The set plans app again once net's outputs change: approving it decides on app too.
    await assert.rejects(controller.approveChangeSet(cs, person('net-team', { units: ['net'] })), { code: 'E_FORBIDDEN', message: /not on app$/ });
    assert.equal((await store.getPlan(net.planId!))!.status, 'Pending', 'nothing was decided');
    assert.equal((await store.getChangeSet(cs))!.approvedBy, undefined);

    await controller.approveChangeSet(cs, person('lead', { units: ['net', 'app'], remote: '10.0.0.9' }));
    await unit('app', 'InSync', head);
    assert.equal((await store.getPlan(net.planId!))!.decidedBy, `changeset:${cs} (lead)`);
    const decisions = await store.listHistory({ decisions: true });
    assert.deepEqual(
      decisions.map((e) => [e.type, e.actor, e.remote, e.unit]),
      [
        ['approved', 'lead', '10.0.0.9', 'net'],
        ['changeset-approved', 'lead', '10.0.0.9', null],
        ['sync-requested', 'alice', undefined, null],
      ],
    );
    // app, planned again after net, applied under its own policy: the engine's doing, no decision of a token.
    assert.equal((await store.getPlan((await store.getUnit('app'))!.planId!))!.decidedBy, 'policy:auto');
  });

  it('a sync records who asked before it polls; accepting a rewritten history takes an admin', async () => {
    repo.commit(stack('web', { changes: 1 }, 'approval: manual\n'));
    await start();
    await unit('web', 'AwaitingApproval');
    await assert.rejects(controller.sync({ allowRewrite: true }, person('alice')), { code: 'E_FORBIDDEN', message: 'token alice (approver) may not sync --allow-rewrite: that needs the admin role' });
    await assert.rejects(controller.sync({ allowRewrite: false, unit: 'web' }, person('bob', { units: ['db'] })), { code: 'E_FORBIDDEN' });
    await controller.sync({ allowRewrite: false, unit: 'web' }, person('alice', { remote: '127.0.0.1' }));
    await controller.sync({ allowRewrite: true }, { name: 'root', role: 'admin' });
    const decisions = await store.listHistory({ decisions: true });
    assert.deepEqual(
      decisions.map((e) => [e.type, e.actor, e.remote, e.unit, e.message]),
      [
        ['rewrite-allowed', 'root', undefined, null, 'sync accepting a rewritten history requested by root'],
        ['sync-requested', 'alice', '127.0.0.1', 'web', 'sync of web requested by alice from 127.0.0.1'],
      ],
    );
  });

  it('a drift check asked for without a unit covers the units the token may decide on, and is recorded', async () => {
    const head = repo.commit({ ...stack('web', { changes: 1 }), ...stack('db', { changes: 1 }) });
    await start();
    await unit('web', 'InSync', head);
    await unit('db', 'InSync', head);
    await assert.rejects(controller.drift({ unit: 'db' }, person('web-team', { units: ['web'] })), { code: 'E_FORBIDDEN' });
    const answer = await controller.drift({}, person('web-team', { units: ['web'] }));
    assert.deepEqual(answer, { scheduled: ['web'], skipped: [] });
    const [event] = await store.listHistory({ decisions: true });
    assert.deepEqual([event!.type, event!.actor, event!.unit, event!.message], ['drift-requested', 'web-team', null, 'drift check requested by web-team: checks started on web']);
    await waitFor(async () => (await store.getUnit('web'))?.lastDriftCheckAt, { what: 'the drift check of web' });
    assert.equal((await store.getUnit('db'))!.lastDriftCheckAt, undefined);
  });

  it('the transition table refuses moves it does not list', async () => {
    const head = repo.commit(stack('web', { changes: 1 }, 'approval: manual\n'));
    await start();
    const waiting = await unit('web', 'AwaitingApproval', head);
    await assert.rejects(store.write((tx) => movePlan(tx, waiting.planId!, 'Applying')), { code: 'E_PLAN_TRANSITION' });
    for (const [from, to] of Object.entries(PLAN_TRANSITIONS) as Array<[PlanStatus, readonly PlanStatus[]]>) {
      if (['Applied', 'NoChanges', 'Rejected', 'Superseded', 'Failed', 'Interrupted'].includes(from)) assert.deepEqual(to, [], `${from} is final`);
    }
  });

  it('a commit recorded as reconciled has its runs queued in the same transaction, and they run after a restart', async () => {
    const head = repo.commit(stack('web', { changes: 1 }, 'approval: manual\n'));
    await start();
    await unit('web', 'AwaitingApproval', head);
    await controller.stop();
    // A poll whose runs never get to start (the worker is gone): the commit and its runs land together.
    const next = repo.commit(stack('web', { changes: 5 }, 'approval: manual\n'));
    await controller.poll({ allowRewrite: false });
    assert.equal((await store.getSource())!.lastReconciledRevision, next);
    const queued = await store.listRuns({ unit: 'web' });
    assert.deepEqual(queued.map((r) => [r.kind, r.revision, r.state]), [['plan', next, 'queued']]);
    await store.close();
    await start();
    await unit('web', 'AwaitingApproval', next);
  });

  it('a new commit is made from the last one: unchanged files shared with its snapshot, the changed unit planned with its new definition', async () => {
    const first = repo.commit({ ...stack('web', { changes: 1 }), ...stack('db', { changes: 1 }) });
    await start();
    await unit('web', 'InSync', first);
    await unit('db', 'InSync', first);
    const next = repo.commit(stack('web', { changes: 2, out: 'second' }));
    const git = () => processCounts.get('git') ?? 0;
    const before = git();
    await controller.sync({ allowRewrite: false }, person('alice'));
    // fetch, merge-base --is-ancestor, one diff (asked for alongside the ancestry check, used by the snapshot and the targets), archive.
    assert.equal(git() - before, 4);
    await unit('web', 'InSync', next);
    assert.equal((await store.getUnit('db'))!.lastAttemptedRevision, first, 'db is left alone');
    assert.equal(controller.definition('web')!.vars.out, 'second');
    assert.equal(controller.definition('db')!.vars.changes, 1);
    const inode = (revision: string, path: string) => statSync(join(dir, 'state', 'snapshots', revision, path)).ino;
    assert.equal(inode(next, 'stacks/db/stack.yaml'), inode(first, 'stacks/db/stack.yaml'));
    assert.notEqual(inode(next, 'stacks/web/stack.yaml'), inode(first, 'stacks/web/stack.yaml'));
  });

  it('once nothing runs after a commit, the mirror gets the upkeep its fetches left out', async () => {
    const original = GitSource.prototype.maintain;
    let maintained = 0;
    GitSource.prototype.maintain = function (this: GitSource) {
      maintained += 1;
      return original.call(this);
    };
    try {
      const head = repo.commit(stack('web', { changes: 1 }));
      await start();
      await unit('web', 'InSync', head);
      await waitFor(() => maintained > 0, { what: 'the mirror\'s upkeep', timeoutMs: 20_000, intervalMs: 20 });
    } finally {
      GitSource.prototype.maintain = original;
    }
  });

  it('old snapshots go once nothing runs, not while the new commit runs; the next snapshot is made from a spare copy of the head', async () => {
    const snapshots = join(dir, 'state', 'snapshots');
    const names = () => readdirSync(snapshots);
    const first = repo.commit({ ...stack('web', { changes: 1 }), ...stack('db', { changes: 1 }) });
    await start();
    await unit('web', 'InSync', first);
    await unit('db', 'InSync', first);
    const second = repo.commit(stack('web', { changes: 1, out: 'second' }));
    await controller.sync({ allowRewrite: false }, person('alice'));
    await unit('web', 'InSync', second);
    // Quiet: a spare copy of the head's snapshot is made for the next commit.
    await waitFor(() => names().some((n) => n.startsWith(`${second}.partial-${process.pid}-spare`)), { what: 'a spare copy of the head', timeoutMs: 20_000, intervalMs: 20 });
    let release!: () => void;
    behaviour.holdApply = new Map([['web', new Promise<void>((resolve) => (release = resolve))]]);
    const third = repo.commit(stack('web', { changes: 1, out: 'third' }));
    await controller.sync({ allowRewrite: false }, person('alice'));
    assert.ok(
      names().every((n) => !n.includes('.partial-')),
      `the spare became the new snapshot: ${names().join(', ')}`,
    );
    assert.equal(statSync(join(snapshots, third, 'stacks/db/stack.yaml')).ino, statSync(join(snapshots, first, 'stacks/db/stack.yaml')).ino);
    await waitFor(() => calls.filter((c) => c === 'apply web').length === 3, { what: 'the third apply of web', timeoutMs: 20_000, intervalMs: 20 });
    // Nothing refers to the second commit any more, but web's run is under way: collected later.
    assert.ok(existsSync(join(snapshots, second)), 'no garbage collection beside the new commit\'s runs');
    release();
    await unit('web', 'InSync', third);
    await waitFor(() => !existsSync(join(snapshots, second)), { what: 'the second snapshot collected', timeoutMs: 20_000, intervalMs: 20 });
    for (const kept of [first, third]) assert.ok(existsSync(join(snapshots, kept)), `${kept} is still referred to`);
  });
});
