import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { silentLogger } from '../../engine/log.ts';
import type { HistoryEvent, PlanStatus } from '../../engine/model.ts';
import { openStore } from '../../engine/store/open.ts';
import { historyRow, planRow, unitRow } from '../../engine/store/sql/rows.ts';
import { SQLITE_FILE } from '../../engine/store/sql/sqlite.ts';
import type { StoredPlan } from '../../engine/store/types.ts';
import { repoRoot } from '../../testkit/files.ts';
import { unitStatus } from '../../testkit/store-fixtures.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import type { OpenMeasure } from './store-open.ts';

/** The year of a large fleet's state (and a tenth of it with --smoke); the start scenario seeds it too. */
export const STORE_SIZES = { full: { units: 1_000, plans: 100_000, events: 1_000_000 }, smoke: { units: 100, plans: 10_000, events: 100_000 } };
type Size = typeof STORE_SIZES.full;

const DAY = 86_400_000;
const ROWS_PER_TRANSACTION = 10_000;

/**
 * Store: a year of a large fleet's state in SQLite (1,000 units, 100,000
 * plans, 1,000,000 history events, written through the store's own row
 * mapping), then, in a fresh process each repetition, what the daemon does
 * with it at start: open it (integrity check, migrations), list the units,
 * the plans that may still be applied, the last history event. The time of
 * that and the process's resident memory afterwards are the figures.
 */
export async function store(ctx: BenchContext): Promise<ScenarioResult> {
  const size = ctx.smoke ? STORE_SIZES.smoke : STORE_SIZES.full;
  const stateDir = ctx.dir('store-state');
  const seedStarted = performance.now();
  await seed(stateDir, size);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const dbMiB = statSync(join(stateDir, SQLITE_FILE)).size / 2 ** 20;
  progress(`store: seeded ${size.units} units, ${size.plans} plans, ${size.events} events in ${seedSeconds.toFixed(0)} s (${dbMiB.toFixed(0)} MiB)`);

  const open: number[] = [];
  const rss: number[] = [];
  const wall: number[] = [];
  let last: OpenMeasure | undefined;
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const started = performance.now();
    last = await measureOpen(stateDir);
    wall.push(performance.now() - started);
    open.push(last.openMs);
    rss.push(last.rssBytes / 2 ** 20);
    progress(`store ${rep + 1}/${ctx.reps}: open ${last.openMs.toFixed(0)} ms, rss ${rss.at(-1)!.toFixed(0)} MiB`);
  }
  return {
    id: 'store',
    title: `Store (SQLite: ${size.units} units, ${size.plans} plans, ${size.events} events)`,
    figures: [
      figure('store.open', 'open: check, migrate, start-up queries', 'ms', open, { text: '<= 1000 ms', test: (v) => v <= 1000 }),
      figure('store.rss', 'process resident memory after opening', 'MiB', rss, { text: '<= 150 MiB', test: (v) => v <= 150 }),
      figure('store.wall', 'process start to store open (node, modules)', 'ms', wall),
      figure('store.size', 'database file', 'MiB', [dbMiB]),
    ],
    details: { size, seedSeconds, startupRows: last && { units: last.units, livePlans: last.livePlans, lastSeq: last.lastSeq } },
    notes: [
      `Seeded with batched inserts (${ROWS_PER_TRANSACTION} rows per transaction) in ${seedSeconds.toFixed(0)} s; the database file is ${dbMiB.toFixed(0)} MiB.`,
      'Each repetition is a fresh node process (bench/scenarios/store-open.ts); the file is in the page cache (it was just written).',
    ],
  };
}

/** Write `size` rows into a new SQLite store in `stateDir`. */
export async function seed(stateDir: string, size: Size): Promise<void> {
  // The schema comes from the store itself; the bulk rows from its own row mapping.
  await (await openStore({ stateDir }, silentLogger)).close();
  const db = new BetterSqlite3(join(stateDir, SQLITE_FILE));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF'); // seeding only: the figures are about reading
    const now = Date.now();
    const units = Array.from({ length: size.units }, (_, i) => `team-${i % 20}/stack-${i}`);
    insertAll(
      db,
      'units',
      units.map((name, i) => unitRow(unitStatus(name, { planId: `${name.replace('/', '~')}-p${i}`, updatedAt: new Date(now - DAY).toISOString() }))),
    );
    insertAll(
      db,
      'plans',
      (function* () {
        for (let i = 0; i < size.plans; i += 1) yield planRow(plan(units[i % units.length]!, i, size.plans, now));
      })(),
    );
    insertAll(
      db,
      'history',
      (function* () {
        for (let i = 0; i < size.events; i += 1) yield historyRow(event(units[i % units.length]!, i, size, now));
      })(),
    );
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

function insertAll(db: BetterSqlite3.Database, table: string, rows: Iterable<Record<string, unknown>>): void {
  let statement: BetterSqlite3.Statement | undefined;
  let batch: Record<string, unknown>[] = [];
  const flush = db.transaction((chunk: Record<string, unknown>[]) => {
    for (const row of chunk) statement!.run(row);
  });
  for (const row of rows) {
    statement ??= db.prepare(`insert into ${table} (${Object.keys(row).join(', ')}) values (${Object.keys(row).map((k) => `@${k}`).join(', ')})`);
    batch.push(row);
    if (batch.length === ROWS_PER_TRANSACTION) {
      flush(batch);
      batch = [];
    }
  }
  if (batch.length > 0) flush(batch);
}

/** Spread over the last 90 days; one in a thousand still waiting for approval. */
function plan(unit: string, i: number, total: number, now: number): StoredPlan {
  const createdAt = new Date(now - ((total - i) / total) * 90 * DAY).toISOString();
  const status: PlanStatus = i % 1000 === 999 ? 'Pending' : i % 3 === 0 ? 'Superseded' : 'Applied';
  return {
    id: `${unit.replace('/', '~')}-${revision(i).slice(0, 8)}-${i.toString(16).padStart(10, '0')}`,
    runId: `run-${i}`,
    unit,
    kind: 'terraform',
    revision: revision(i),
    status,
    summary: { add: 1, change: 2, destroy: 0, replace: 0 },
    hasChanges: true,
    destructive: false,
    approval: 'auto-unless-destroy',
    applyAt: null,
    createdAt,
    updatedAt: createdAt,
    inputsHash: `${revision(i)}${revision(i + 1)}`.slice(0, 64),
    changeSet: `cs-${revision(i).slice(0, 12)}`,
    decidedBy: 'policy:auto-unless-destroy',
    decidedAt: createdAt,
    managed: ['terraform_data.greeting', 'terraform_data.cache'],
  };
}

/** Spread over the last 400 days. */
function event(unit: string, i: number, size: Size, now: number): Omit<HistoryEvent, 'seq'> {
  const at = new Date(now - ((size.events - i) / size.events) * 400 * DAY).toISOString();
  const types = ['planned', 'apply-started', 'applied'] as const;
  return {
    at,
    type: types[i % 3]!,
    unit,
    revision: revision(i),
    planId: `${unit.replace('/', '~')}-${revision(i).slice(0, 8)}-${(i % size.plans).toString(16).padStart(10, '0')}`,
    message: i % 3 === 2 ? 'Apply complete! Resources: 1 added, 2 changed, 0 destroyed.' : '1 to add, 2 to change, 0 to destroy, 0 to replace',
    startedAt: at,
    finishedAt: at,
  };
}

function revision(i: number): string {
  return (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(5);
}

async function measureOpen(stateDir: string): Promise<OpenMeasure> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', 'scenarios', 'store-open.ts'), stateDir], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`opening the store failed (exit ${code}): ${err.trim().split('\n').slice(-5).join(' ')}`);
  return JSON.parse(out) as OpenMeasure;
}
