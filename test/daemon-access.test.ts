import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { HistoryEvent, PlanRecord } from '../engine/model.ts';
import { parsePrometheusText, sampleValue } from '../testkit/prometheus-text.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

// Personal tokens and roles on the real daemon, with real terraform runs:
// each token decides only what its role and units allow, every decision
// names it (and where the request came from) in the history, revocation and
// expiry take effect on the next request, and Prometheus can scrape it all.

let repo: TestRepo;
let daemon: TestDaemon;
let head: string;
const tokens: Record<string, string> = {};

before(async () => {
  repo = new TestRepo();
  head = repo.commit({ ...helloStack({ name: 'prod/web', approval: 'manual', value: 'prod' }), ...helloStack({ name: 'dev/web', approval: 'manual', value: 'dev' }) }, 'two environments');
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
  await daemon.waitForUnit('prod/web', 'AwaitingApproval', { revision: head });
  await daemon.waitForUnit('dev/web', 'AwaitingApproval', { revision: head });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

/** A request as a token holder makes it (null: no token). */
// An answer's shape depends on the route: each assertion reads the part it checks.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of many routes, read field by field
async function as(token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${daemon.url}${path}`, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json', connection: 'close' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

const planOf = async (unit: string): Promise<string> => (await daemon.unit(unit))!.planId!;

test('the health checks answer without a token, and say nothing else', async () => {
  const health = await as(null, 'GET', '/healthz');
  assert.deepEqual(health, { status: 200, body: { ok: true } });
  const ready = await as(null, 'GET', '/readyz');
  assert.deepEqual(ready, { status: 200, body: { ready: true } });
  assert.equal((await as(null, 'GET', '/api/v1/status')).status, 401);
});

test('an admin creates tokens with the CLI; each is printed once, alone, and works at once', () => {
  for (const [name, args] of [
    ['ops', ['--role', 'approver', '--units', 'prod/*']],
    ['watcher', ['--role', 'viewer']],
    ['boss', ['--role', 'admin', '--expires', '1h']],
  ] as const) {
    const created = daemon.cli(['token', 'create', name, ...args]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^plb_\S+\n$/);
    tokens[name] = created.stdout.trim();
  }
  const list = daemon.cli(['token', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^boss +admin +\*all\* +active +\d{4}-\S+ \S+ +\S+ \S+ +bootstrap$/m);
  assert.match(list.stdout, /^ops +approver +prod\/\* +active +- +/m);
  for (const token of Object.values(tokens)) assert.ok(!list.stdout.includes(token));
});

test('a viewer reads everything and decides nothing', async () => {
  assert.equal((await as(tokens.watcher!, 'GET', '/api/v1/status')).status, 200);
  assert.equal((await as(tokens.watcher!, 'GET', `/api/v1/plans/${await planOf('dev/web')}`)).status, 200);
  assert.equal((await as(tokens.watcher!, 'GET', '/api/v1/audit')).status, 200);
  const approve = daemon.cli(['approve', await planOf('dev/web'), '--token', tokens.watcher!]);
  assert.equal(approve.code, 1);
  assert.match(approve.stderr, /^error: token watcher \(viewer\) may not approve plans: that needs the approver role$/m);
  assert.equal((await as(tokens.watcher!, 'GET', '/api/v1/tokens')).status, 403);
});

test('an approver decides only on its units; its approval is applied and recorded under its name and address', async () => {
  const dev = await planOf('dev/web');
  const refused = daemon.cli(['approve', dev, '--token', tokens.ops!, '--by', 'mallory']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: token ops may approve plans only on units matching prod\/\*; not on dev\/web$/m);
  assert.equal((await as(tokens.ops!, 'POST', `/api/v1/plans/${dev}/reject`, {})).status, 403);

  const prod = await planOf('prod/web');
  const approved = daemon.cli(['approve', prod, '--token', tokens.ops!, '--by', 'mallory']);
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /approved by ops;/);
  await daemon.waitForUnit('prod/web', 'InSync', { revision: head });
  const plan = (await daemon.plans('prod/web')).find((p: PlanRecord) => p.id === prod)!;
  assert.equal(plan.status, 'Applied');
  assert.equal(plan.decidedBy, 'ops', 'the token decides, never `by`');
  const event = (await daemon.history('prod/web')).find((e: HistoryEvent) => e.type === 'approved')!;
  assert.equal(event.actor, 'ops');
  assert.equal(event.remote, '127.0.0.1');
  assert.equal((await daemon.unit('dev/web'))!.phase, 'AwaitingApproval', 'dev/web was left alone');
});

test('accepting a rewritten history takes an admin; syncs and drift checks are recorded with who asked', async () => {
  const rewrite = daemon.cli(['sync', '--allow-rewrite', '--token', tokens.ops!]);
  assert.equal(rewrite.code, 1);
  assert.match(rewrite.stderr, /^error: token ops \(approver\) may not sync --allow-rewrite: that needs the admin role$/m);
  assert.equal(daemon.cli(['sync', '--allow-rewrite', '--token', tokens.boss!]).code, 0);
  assert.equal(daemon.cli(['sync', '--token', tokens.ops!]).code, 0);
  const drift = await as(tokens.ops!, 'POST', '/api/v1/drift', {});
  assert.equal(drift.status, 200);
  assert.deepEqual(drift.body.scheduled, ['prod/web'], 'only the units the token may decide on');

  const audit = daemon.cli(['audit', '--json']);
  assert.equal(audit.code, 0, audit.stderr);
  const decisions = (JSON.parse(audit.stdout) as HistoryEvent[]).map((e) => `${e.type} ${e.actor} ${e.remote} ${e.unit ?? '-'}`);
  assert.deepEqual(decisions, [
    'drift-requested ops 127.0.0.1 -',
    'sync-requested ops 127.0.0.1 -',
    'rewrite-allowed boss 127.0.0.1 -',
    'approved ops 127.0.0.1 prod/web',
    'token-created bootstrap 127.0.0.1 -',
    'token-created bootstrap 127.0.0.1 -',
    'token-created bootstrap 127.0.0.1 -',
  ]);
  const table = daemon.cli(['audit', '--limit', '1']);
  assert.match(table.stdout, /^ *\d+ +\S+ \S+ +ops +127\.0\.0\.1 +drift-requested +- +drift check requested by ops from 127\.0\.0\.1: checks started on prod\/web$/m);
});

test('a revoked token is refused on its next request; an expired one from the moment it expires', async () => {
  const revoke = daemon.cli(['token', 'revoke', 'ops', '--token', tokens.boss!]);
  assert.equal(revoke.code, 0, revoke.stderr);
  assert.match(revoke.stdout, /^token ops revoked at .* by boss$/m);
  const refused = await as(tokens.ops!, 'GET', '/api/v1/status');
  assert.equal(refused.status, 401);
  assert.match(refused.body.error.message, /^token ops was revoked at .* by boss$/);

  const brief = daemon.cli(['token', 'create', 'brief', '--role', 'viewer', '--expires', '2s']);
  assert.equal(brief.code, 0, brief.stderr);
  const token = brief.stdout.trim();
  // Refused once its two seconds are up, with no restart and nothing cached.
  const expired = await waitFor(
    async () => {
      const res = await as(token, 'GET', '/api/v1/status');
      return res.status === 401 ? res : undefined;
    },
    { what: 'the token to expire', timeoutMs: 15_000 },
  );
  assert.match(expired.body.error.message, /^token brief expired at /);
});

test('Prometheus scrapes /metrics without a token: runs, units, plans, the queue, the source, tools, API answers', async () => {
  // The drift check asked for above has ended.
  await waitFor(async () => (await daemon.unit('prod/web'))?.lastDriftCheckAt, { what: 'the drift check of prod/web' });
  const scrape = await as(null, 'GET', '/metrics');
  assert.equal(scrape.status, 200);
  const families = parsePrometheusText(scrape.body as string);
  const runs = (labels: Record<string, string>) => sampleValue(families, 'plumbline_runs_total', labels) ?? 0;
  assert.equal(runs({ kind: 'plan', unit: 'prod/web', result: 'succeeded' }), 1);
  assert.equal(runs({ kind: 'plan', unit: 'dev/web', result: 'succeeded' }), 1);
  assert.equal(runs({ kind: 'apply', unit: 'prod/web', result: 'succeeded' }), 1);
  assert.equal(runs({ kind: 'drift', unit: 'prod/web', result: 'unchanged' }), 1);
  assert.equal(sampleValue(families, 'plumbline_run_duration_seconds', { kind: 'apply', result: 'succeeded' }, 'plumbline_run_duration_seconds_count'), 1);
  assert.equal(sampleValue(families, 'plumbline_units', { phase: 'InSync' }), 1);
  assert.equal(sampleValue(families, 'plumbline_units', { phase: 'AwaitingApproval' }), 1);
  assert.equal(sampleValue(families, 'plumbline_plans_pending'), 1);
  assert.equal(sampleValue(families, 'plumbline_queue_depth'), 0);
  assert.equal(sampleValue(families, 'plumbline_source_fetch_failures_total'), 0);
  const lastFetch = sampleValue(families, 'plumbline_source_last_success_timestamp_seconds')!;
  assert.ok(lastFetch > Date.now() / 1000 - 600 && lastFetch <= Date.now() / 1000, String(lastFetch));
  assert.ok(sampleValue(families, 'plumbline_tool_processes_started_total', { tool: 'terraform' })! >= 4);
  assert.ok(sampleValue(families, 'plumbline_tool_processes_started_total', { tool: 'git' })! >= 1);
  assert.equal(sampleValue(families, 'plumbline_sandbox_enabled'), 0);
  assert.ok(sampleValue(families, 'plumbline_api_requests_total', { route: 'POST /api/v1/plans/:id/approve', status: '403' })! >= 2);
});

test('with metrics.requireToken, a scrape needs a token; tokens outlive a restart', async () => {
  await daemon.stop();
  appendFileSync(daemon.configFile, '\nmetrics:\n  requireToken: true\n');
  await daemon.launch();
  assert.equal((await as(null, 'GET', '/metrics')).status, 401);
  assert.equal((await as(null, 'GET', '/healthz')).status, 200);
  const scrape = await as(tokens.watcher!, 'GET', '/metrics');
  assert.equal(scrape.status, 200);
  assert.ok(parsePrometheusText(scrape.body as string).has('plumbline_units'));
  assert.equal((await as(tokens.ops!, 'GET', '/metrics')).status, 401, 'still revoked after the restart');
});
