import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePrometheusText, sampleValue } from '../../testkit/prometheus-text.ts';
import { storedPlan, unitStatus } from '../../testkit/store-fixtures.ts';
import { newRun } from '../controller/runs.ts';
import * as t from '../controller/transitions.ts';
import { silentLogger } from '../log.ts';
import { openStore } from '../store/open.ts';
import type { SqlStore } from '../store/sql/sql-store.ts';
import type { RunRecord } from '../store/types.ts';
import { DaemonMetrics } from './prometheus.ts';

const REV = 'a'.repeat(40);

describe('the daemon metrics', () => {
  let dir: string;
  let store: SqlStore;
  let metrics: DaemonMetrics;
  const processCounts = new Map([['terraform', 3], ['git', 7]]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-metrics-'));
    store = await openStore({ stateDir: dir }, silentLogger);
    metrics = new DaemonMetrics({ store, processCounts, requireToken: false });
    store.onHistory = (event) => metrics.history(event);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A run as the scheduler runs it: started, its transaction, finished. */
  async function runOf(run: RunRecord, body: () => Promise<void>): Promise<void> {
    metrics.runStarted(run);
    await body();
    metrics.runFinished(run);
  }
  const ref = (name: string) => ({ name, kind: 'terraform', path: `stacks/${name}` });
  const at = { startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() };

  it('counts runs by kind, unit and result, from the event each run commits, and times them', async () => {
    await runOf(newRun('plan', 'web', REV), () =>
      store.write(async (tx) => void (await t.planRecorded(tx, ref('web'), storedPlan('web-1', { unit: 'web', status: 'Pending' }), { message: 'planned', startedAt: at.startedAt }))),
    );
    await runOf(newRun('plan', 'db', REV), () => store.write((tx) => t.planFailed(tx, ref('db'), REV, { code: 'E_TOOL_FAILED', message: 'terraform failed' }, at)));
    await runOf(newRun('drift', 'db', REV), () => store.write((tx) => t.driftCheckFailed(tx, ref('db'), REV, { code: 'E_TOOL_TIMEOUT', message: 'too slow' }, at)));
    await runOf(newRun('drift', 'web', REV), () =>
      store.write(async (tx) => void (await t.driftDetected(tx, ref('web'), storedPlan('web-d', { unit: 'web', status: 'Pending', purpose: 'drift' }), 'drift: 1 to change', { lastDriftCheckAt: at.finishedAt, startedAt: at.startedAt }))),
    );
    // A drift check that found what the last one found commits no event; neither does a cancelled apply.
    await runOf(newRun('drift', 'web', REV), async () => undefined);
    await runOf(newRun('apply', 'web', REV, { planId: 'web-1' }), async () => undefined);
    // An event of a unit with no run here (an approval through the API) counts no run.
    await store.write((tx) => t.record(tx, { type: 'approved', unit: 'other', revision: REV, planId: null, message: 'approved by alice' }));

    const families = parsePrometheusText((await metrics.render()).text);
    const runs = (labels: Record<string, string>) => sampleValue(families, 'plumbline_runs_total', labels);
    assert.equal(runs({ kind: 'plan', unit: 'web', result: 'succeeded' }), 1);
    assert.equal(runs({ kind: 'plan', unit: 'db', result: 'failed' }), 1);
    assert.equal(runs({ kind: 'drift', unit: 'db', result: 'failed' }), 1);
    assert.equal(runs({ kind: 'drift', unit: 'web', result: 'drifted' }), 1);
    assert.equal(runs({ kind: 'drift', unit: 'web', result: 'unchanged' }), 1);
    assert.equal(runs({ kind: 'apply', unit: 'web', result: 'cancelled' }), 1);
    assert.equal(families.get('plumbline_runs_total')!.samples.length, 6);
    assert.equal(families.get('plumbline_run_duration_seconds')!.type, 'histogram');
    assert.equal(sampleValue(families, 'plumbline_run_duration_seconds', { kind: 'drift', result: 'unchanged' }, 'plumbline_run_duration_seconds_count'), 1);
    assert.equal(sampleValue(families, 'plumbline_run_duration_seconds', { kind: 'plan', result: 'failed', le: '+Inf' }, 'plumbline_run_duration_seconds_bucket'), 1);
    assert.equal(sampleValue(families, 'plumbline_drift_detected_total', { unit: 'web' }), 1);
  });

  it('counts what the store holds by SQL at each scrape: units by phase (every phase named), pending plans, the queue', async () => {
    await store.write(async (tx) => {
      await tx.putUnit(unitStatus('a', { phase: 'InSync' }));
      await tx.putUnit(unitStatus('b', { phase: 'Failed' }));
      await tx.putPlan(storedPlan('a-2', { unit: 'a', status: 'Pending' }));
      await tx.putRun({ ...newRun('plan', 'a', REV), state: 'queued' });
      await tx.putRun({ ...newRun('apply', 'b', REV), state: 'running' });
    });
    const families = parsePrometheusText((await metrics.render()).text);
    // web and db as the runs above left them, a and b as put now.
    assert.equal(sampleValue(families, 'plumbline_units', { phase: 'InSync' }), 1);
    assert.equal(sampleValue(families, 'plumbline_units', { phase: 'Failed' }), 2);
    assert.equal(sampleValue(families, 'plumbline_units', { phase: 'Drifted' }), 1);
    assert.equal(sampleValue(families, 'plumbline_units', { phase: 'Orphaned' }), 0);
    assert.equal(families.get('plumbline_units')!.samples.length, 10);
    // web-1 (planned above), web-d (the drift plan) and a-2.
    assert.equal(sampleValue(families, 'plumbline_plans_pending'), 3);
    assert.equal(sampleValue(families, 'plumbline_queue_depth'), 1);
    assert.equal(sampleValue(families, 'plumbline_runs_running'), 1);
  });

  it('says how fetches went, which tools ran, whether runs are sandboxed, and what the API answered', async () => {
    metrics.fetched(false);
    metrics.fetched(false);
    const before = Date.now() / 1000;
    metrics.fetched(true);
    metrics.apiRequest('POST /api/v1/plans/:id/approve', 403);
    metrics.setSandboxEnabled(true);
    processCounts.set('terraform', 4);
    const { contentType, text } = await metrics.render();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(text);
    assert.equal(sampleValue(families, 'plumbline_source_fetch_failures_total'), 2);
    const last = sampleValue(families, 'plumbline_source_last_success_timestamp_seconds')!;
    assert.ok(last >= before && last <= Date.now() / 1000 + 1, String(last));
    assert.equal(sampleValue(families, 'plumbline_tool_processes_started_total', { tool: 'terraform' }), 4);
    assert.equal(sampleValue(families, 'plumbline_tool_processes_started_total', { tool: 'git' }), 7);
    assert.equal(sampleValue(families, 'plumbline_sandbox_enabled'), 1);
    assert.equal(sampleValue(families, 'plumbline_api_requests_total', { route: 'POST /api/v1/plans/:id/approve', status: '403' }), 1);
    assert.ok(families.has('process_resident_memory_bytes'), 'the process metrics are there too');
    // Scraping again counts nothing twice.
    assert.equal(sampleValue(parsePrometheusText((await metrics.render()).text), 'plumbline_tool_processes_started_total', { tool: 'terraform' }), 4);
  });
});

describe('the Prometheus text parser of the tests', () => {
  const valid = '# HELP x_total Things.\n# TYPE x_total counter\nx_total{a="1",b="q\\"uote"} 3\n';

  it('reads families, labels with escapes, and values', () => {
    const families = parsePrometheusText(valid);
    assert.deepEqual(families.get('x_total'), { name: 'x_total', type: 'counter', help: 'Things.', samples: [{ name: 'x_total', labels: { a: '1', b: 'q"uote' }, value: 3 }] });
  });

  it('refuses what a Prometheus server would refuse', () => {
    const bad = [
      valid.slice(0, -1), // no final newline
      'x_total 3\n', // a sample before its TYPE
      '# TYPE x counter\nx{a="1"} -1\n', // a negative counter
      '# TYPE x gauge\nx{a=1} 1\n', // an unquoted label value
      '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n', // a series twice
      '# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx 2\n', // families interleaved
      '# TYPE x gauge\nx one\n', // not a number
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf bucket
      '# TYPE x gauge\nx{__name="1"} 1\n', // a reserved label name
    ];
    for (const text of bad) assert.throws(() => parsePrometheusText(text), Error, JSON.stringify(text));
  });
});
