import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ClusterAnswer } from '../engine/api/contract.ts';
import type { PlanRecord, UnitStatus } from '../engine/model.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { startPostgres, type PostgresServer } from '../testkit/postgres.ts';
import { waitFor } from '../testkit/wait.ts';

// Three daemons on one real PostgreSQL 15, each with its own state folder and
// API. Each stack appends to a counter file outside the repository when it is
// created, so the counter shows every apply that really happened.
const LEASE = 5_000;
let pg: PostgresServer;
let repo: TestRepo;
let counters: string;
/** The members share one sealing key, as the docs ask. */
let keys: string;
let url: string;
/** The members by slot (ctl-1, ctl-2, ctl-3); a killed one is replaced in its slot. */
const daemons: TestDaemon[] = [];
/** Every daemon started, for the cleanup. */
const started: TestDaemon[] = [];

function stacks(count: number, options: { from?: number; sleep?: number } = {}): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = options.from ?? 1; i < (options.from ?? 1) + count; i += 1) {
    const name = `s${String(i).padStart(2, '0')}`;
    files[`stacks/${name}/stack.yaml`] = 'kind: terraform\napproval: auto\n';
    files[`stacks/${name}/main.tf`] = [
      'resource "terraform_data" "s" {',
      `  input = "${name}"`,
      '  provisioner "local-exec" {',
      `    command = "${options.sleep ? `sleep ${options.sleep}; ` : ''}echo ${name} >> ${join(counters, name)}"`,
      '  }',
      '}',
      '',
    ].join('\n');
  }
  return files;
}

async function member(name: string): Promise<TestDaemon> {
  const daemon = await TestDaemon.start({
    sourceUrl: repo.url,
    interval: '2s',
    concurrency: 2,
    extraConfig: [
      `store:`,
      `  url: ${url}`,
      `  passwordFile: ${pg.passwordFile}`,
      `  sealingKeyFile: ${join(keys, 'sealing.key')}`,
      `cluster:`,
      `  name: ${name}`,
      `  leaseTTL: ${LEASE / 1000}s`,
      // The counters are outside the repository: the operator grants them, as a real user would.
      `sandbox:`,
      `  grants:`,
      `    - units: ['*']`,
      `      writable: [${counters}]`,
    ].join('\n'),
  });
  started.push(daemon);
  return daemon;
}

/** Kills the member in `slot` with `body` running, and always starts its replacement, so a failure does not cascade into the next test. */
async function withMemberKilled(slot: number, body: () => Promise<void>): Promise<void> {
  await daemons[slot]!.kill();
  try {
    await body();
  } finally {
    daemons[slot] = await member(`ctl-${slot + 1}`);
  }
}

function applies(name: string): number {
  const file = join(counters, name);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').length : 0;
}

async function allInSync(daemon: TestDaemon, names: string[], revision: string, timeoutMs = 300_000): Promise<UnitStatus[]> {
  let seen = '';
  try {
    return await waitFor(
      async () => {
        const units = await daemon.units();
        const wanted = names.map((n) => units.find((u) => u.name === n));
        seen = wanted.map((u, i) => `${names[i]}: ${u ? `${u.phase}/${u.reason} ${u.message}` : 'unknown'}`).join('; ');
        const done = wanted.filter((u) => u?.phase === 'InSync' && u.lastAppliedRevision === revision);
        return done.length === names.length ? (done as UnitStatus[]) : undefined;
      },
      { what: `${names.length} units InSync at ${revision.slice(0, 8)}`, timeoutMs },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; units: ${seen}`, { cause: error });
  }
}

async function cluster(daemon: TestDaemon): Promise<ClusterAnswer> {
  return (await daemon.api<ClusterAnswer>('/api/v1/cluster')).body;
}

before(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase();
  counters = mkdtempSync(join(tmpdir(), 'plumbline-counters-'));
  keys = mkdtempSync(join(tmpdir(), 'plumbline-keys-'));
  repo = new TestRepo();
});

after(async () => {
  for (const daemon of started) await daemon.dispose();
  repo?.dispose();
  await pg?.stop();
  rmSync(counters, { recursive: true, force: true });
  rmSync(keys, { recursive: true, force: true });
});

const names = (count: number, from = 1) => Array.from({ length: count }, (_, i) => `s${String(i + from).padStart(2, '0')}`);

test('three members converge 30 stacks, each applied exactly once, the runs spread over the members', async () => {
  const head = repo.commit(stacks(30), '30 stacks');
  daemons.push(await member('ctl-1'), await member('ctl-2'), await member('ctl-3'));
  const one = daemons[0];
  await allInSync(one!, names(30), head);
  for (const name of names(30)) assert.equal(applies(name), 1, `${name} applied once`);
  const plans = (await one!.api<PlanRecord[]>('/api/v1/plans?limit=1000')).body.filter((p) => p.status === 'Applied');
  const workers = new Set(plans.map((p) => p.worker));
  assert.ok(workers.size >= 2, `applies spread over the members: ${[...workers].join(', ')}`);
  // Every member answers with the same state.
  for (const daemon of daemons) assert.equal((await daemon.units()).filter((u) => u.phase === 'InSync').length, 30);
  const members = (await cluster(one!)).members;
  assert.deepEqual(members.map((m) => m.name), ['ctl-1', 'ctl-2', 'ctl-3']);
  assert.equal(members.filter((m) => m.leader).length, 1);
});

test('a sync asked of every member at once plans the commit once: the members that do not lead start from what the leader reconciled', async () => {
  const head = repo.commit(stacks(1, { from: 34 }), 'one more stack');
  await Promise.all(daemons.map((d) => d.sync()));
  await allInSync(daemons[1]!, ['s34'], head);
  assert.equal(applies('s34'), 1);
  const plans = (await daemons[2]!.api<PlanRecord[]>('/api/v1/plans?unit=s34')).body;
  assert.deepEqual(plans.map((p) => p.status), ['Applied'], 'one plan, applied; none superseded by a second reconcile');
});

test('kill -9 of the member running an apply: another takes over after the lease, the run is Interrupted and planned again, never applied twice', async () => {
  const head = repo.commit(stacks(1, { from: 31, sleep: 6 }), 'a slow stack');
  const first = daemons[0]!;
  await first.sync();
  const applying = await waitFor(async () => (await first.api<PlanRecord[]>('/api/v1/plans?unit=s31')).body.find((p) => p.status === 'Applying' && p.revision === head), { what: 's31 applying', timeoutMs: 120_000 });
  const holder = await waitFor(async () => (await cluster(first)).members.find((m) => m.runs.some((r) => r.unit === 's31' && r.kind === 'apply')), { what: 'the member holding the apply' });
  const index = ['ctl-1', 'ctl-2', 'ctl-3'].indexOf(holder.name);
  const survivor = daemons.find((_, i) => i !== index)!;
  await withMemberKilled(index, async () => {
    const interrupted = await waitFor(async () => (await survivor.api<PlanRecord[]>('/api/v1/plans?unit=s31')).body.find((p) => p.id === applying.id && p.status === 'Interrupted'), {
      what: 'the cut-off apply recorded Interrupted by another member',
      timeoutMs: LEASE * 4 + 60_000,
    });
    assert.match(interrupted.error?.message ?? '', /stopped renewing its claim/);
    const unit = await survivor.waitForUnit('s31', 'InSync', { timeoutMs: 180_000 });
    assert.equal(unit.lastAppliedRevision, head);
    assert.equal(applies('s31'), 1, 'terraform finished the apply it had started; the new plan found nothing to do');
  });
});

test('the leader killed: another member polls within leaseTTL and one interval', async () => {
  const any = daemons[0]!;
  const leader = (await cluster(any)).members.find((m) => m.leader)!;
  const index = ['ctl-1', 'ctl-2', 'ctl-3'].indexOf(leader.name);
  const survivor = daemons.find((_, i) => i !== index)!;
  await withMemberKilled(index, async () => {
    const killedAt = Date.now();
    const head = repo.commit(stacks(1, { from: 32 }), 'after the leader died');
    await waitFor(async () => (await survivor.status()).source.lastReconciledRevision === head, { what: 'the new head reconciled by another member', timeoutMs: 60_000 });
    const took = Date.now() - killedAt;
    assert.ok(took < LEASE + 2_000 + 8_000, `reconciled ${took} ms after the leader died`);
    await survivor.waitForUnit('s32', 'InSync', { revision: head });
  });
});

test('a member paused past its lease, then resumed: its stale writes are refused', async () => {
  const head = repo.commit(stacks(1, { from: 33, sleep: 4 }), 'another slow stack');
  const first = daemons[0]!;
  await first.sync();
  const holder = await waitFor(async () => (await cluster(first)).members.find((m) => m.runs.some((r) => r.unit === 's33' && r.kind === 'apply')), { what: 'the member applying s33', timeoutMs: 120_000 });
  const index = ['ctl-1', 'ctl-2', 'ctl-3'].indexOf(holder.name);
  const paused = daemons[index]!;
  const other = daemons.find((_, i) => i !== index)!;
  paused.pause();
  try {
    await waitFor(async () => (await other.api<PlanRecord[]>('/api/v1/plans?unit=s33')).body.some((p) => p.status === 'Interrupted'), { what: 'the paused member’s apply taken up', timeoutMs: LEASE * 4 + 30_000 });
  } finally {
    // Always: a member left frozen would fail every later test.
    paused.resume();
  }
  await waitFor(() => paused.logs.includes('taken over by another member'), { what: 'the resumed member noticing it lost the run', timeoutMs: 60_000 });
  await other.waitForUnit('s33', 'InSync', { revision: head, timeoutMs: 180_000 });
  const plans = (await other.api<PlanRecord[]>('/api/v1/plans?unit=s33')).body;
  assert.ok(!plans.some((p) => p.status === 'Applied' && p.worker === holder.name), 'nothing the paused member did after its lease lapsed was recorded');
  assert.equal(applies('s33'), 1);
});

test('PostgreSQL restarted under load: the members reconnect and nothing is lost', async () => {
  const head = repo.commit(stacks(6, { from: 40, sleep: 1 }), 'six more');
  await daemons[0]!.sync();
  await pg.restart();
  await allInSync(daemons[1]!, names(6, 40), head, 300_000);
  for (const name of names(6, 40)) assert.equal(applies(name), 1, `${name} applied once`);
  for (const daemon of daemons) assert.equal((await daemon.status()).source.lastReconciledRevision, head);
});
