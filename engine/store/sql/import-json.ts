import { createReadStream } from 'node:fs';
import { readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { UnitReads } from '../../definitions/reads.ts';
import type { ChangeSet, HistoryEvent, SourceStatus, UnitStatus } from '../../model.ts';
import type { Logger } from '../../log.ts';
import { fsyncDir } from '../atomic.ts';
import type { StoredPlan } from '../types.ts';
import type { SqlEngine } from './engine.ts';
import { type Kysely, sql } from './kysely.ts';
import { changeSetRow, historyRow, mask, planRow, readsRow, sourceRow, unitRow } from './rows.ts';
import type { Database } from './schema.ts';

/** Marks a store that holds an imported JSON-file store, so a crash before the move never imports it twice. */
const IMPORTED = 'imported-json-store';
const BATCH = 500;

export interface JsonStoreImport {
  units: number;
  plans: number;
  changeSets: number;
  reads: number;
  events: number;
  source: boolean;
  /** Files that did not parse (left where they were, in the folder moved aside). */
  damaged: string[];
  /** Where the old folder is now. */
  movedTo: string;
}

/**
 * Upgrade in place: the `store/` folder the JSON-file store kept in the state
 * directory (one JSON file per unit, plan, change set and unit's reads,
 * `history.jsonl`, `source.json`) goes into the SQL store in one transaction,
 * history with the sequence numbers it had; then the folder is renamed aside,
 * never deleted. A record that does not parse is skipped and named in the log
 * (its unit is planned again, as the JSON-file store did with damaged records).
 * Returns undefined when there is nothing to import.
 */
export async function importJsonStore(engine: SqlEngine, stateDir: string, log: Logger): Promise<JsonStoreImport | undefined> {
  const folder = join(stateDir, 'store');
  if (!(await isDirectory(folder))) return undefined;
  const damaged: string[] = [];
  const outcome = await engine.transaction(async (db) => {
    if (await db.selectFrom('store_meta').select('value').where('key', '=', IMPORTED).executeTakeFirst()) return 'imported before' as const;
    if (await holdsData(db)) return 'occupied' as const;
    const counts = await copyAll(db, folder, damaged);
    if (engine.kind === 'postgres') {
      // Explicit numbers do not advance an identity column: new events continue after the imported ones.
      await sql`select setval(pg_get_serial_sequence('history', 'seq'), max(seq)) from history having max(seq) is not null`.execute(db);
    }
    await db.insertInto('store_meta').values({ key: IMPORTED, value: new Date().toISOString() }).execute();
    return counts;
  });
  if (outcome === 'occupied') {
    log.warn({ folder }, 'a JSON-file store folder sits beside a SQL store that already holds data: it was not imported, and is left as it is');
    return undefined;
  }
  const movedTo = join(stateDir, `store.imported-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`);
  await rename(folder, movedTo);
  await fsyncDir(stateDir);
  if (outcome === 'imported before') {
    log.info({ folder, movedTo }, 'JSON-file store already imported: its folder moved aside');
    return undefined;
  }
  const result: JsonStoreImport = { ...outcome, damaged, movedTo };
  log.info({ ...result, store: engine.location }, 'JSON-file store imported into the SQL store; its folder moved aside');
  for (const file of damaged) log.warn({ file }, 'a record of the JSON-file store did not parse and was not imported; its unit is planned again');
  return result;
}

async function holdsData(db: Kysely<Database>): Promise<boolean> {
  for (const table of ['units', 'plans', 'history'] as const) {
    if (await db.selectFrom(table).select(sql.lit(1).as('one')).limit(1).executeTakeFirst()) return true;
  }
  return false;
}

async function copyAll(db: Kysely<Database>, folder: string, damaged: string[]): Promise<Omit<JsonStoreImport, 'damaged' | 'movedTo'>> {
  const units = await copyRecords<UnitStatus>(join(folder, 'units'), damaged, ['name'], async (batch) => {
    await db.insertInto('units').values(batch.map(unitRow)).onConflict((oc) => oc.doNothing()).execute();
  });
  const plans = await copyRecords<StoredPlan>(join(folder, 'plans'), damaged, ['id', 'unit', 'status', 'createdAt', 'runId'], async (batch) => {
    await db.insertInto('plans').values(batch.map(planRow)).onConflict((oc) => oc.doNothing()).execute();
  });
  const changeSets = await copyRecords<ChangeSet>(join(folder, 'changesets'), damaged, ['id', 'createdAt'], async (batch) => {
    await db.insertInto('change_sets').values(batch.map(changeSetRow)).onConflict((oc) => oc.doNothing()).execute();
  });
  const reads = await copyRecords<UnitReads>(join(folder, 'reads'), damaged, ['unit'], async (batch) => {
    await db.insertInto('unit_reads').values(batch.map(readsRow)).onConflict((oc) => oc.doNothing()).execute();
  });
  const source = await readRecord<SourceStatus>(join(folder, 'source.json'), damaged, ['url']);
  if (source) await db.insertInto('source').values(sourceRow(mask(source))).execute();
  let events = 0;
  await inBatches(historyLines(join(folder, 'history.jsonl'), damaged), async (batch) => {
    await db.insertInto('history').values(batch.map(historyRow)).onConflict((oc) => oc.doNothing()).execute();
    events += batch.length;
  });
  return { units, plans, changeSets, reads, events, source: source !== undefined };
}

async function copyRecords<T>(dir: string, damaged: string[], required: readonly string[], insert: (batch: T[]) => Promise<void>): Promise<number> {
  let count = 0;
  await inBatches(recordsIn<T>(dir, damaged, required), async (batch) => {
    await insert(batch.map(mask));
    count += batch.length;
  });
  return count;
}

async function* recordsIn<T>(dir: string, damaged: string[], required: readonly string[]): AsyncGenerator<T> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    const record = await readRecord<T>(join(dir, name), damaged, required);
    if (record !== undefined) yield record;
  }
}

/** A record as the JSON-file store wrote it; one that does not parse, or lacks a key field, is listed as damaged. */
async function readRecord<T>(file: string, damaged: string[], required: readonly string[]): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    const missing = required.filter((key) => typeof (value as Record<string, unknown>)[key] !== 'string');
    if (missing.length > 0) throw new Error(`no ${missing.join(', ')}`);
    return value as T;
  } catch {
    damaged.push(file);
    return undefined;
  }
}

/** Every complete event of the log; a line cut short by a crash is skipped, as the JSON-file store did. */
async function* historyLines(file: string, damaged: string[]): AsyncGenerator<HistoryEvent> {
  if (!(await isFile(file))) return;
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    lineNo += 1;
    if (!line.trim()) continue;
    try {
      const event = JSON.parse(line) as HistoryEvent;
      if (!Number.isInteger(event.seq) || typeof event.at !== 'string') throw new Error('no seq or at');
      yield mask(event);
    } catch {
      damaged.push(`${file}:${lineNo}`);
    }
  }
}

async function inBatches<T>(items: AsyncIterable<T>, flush: (batch: T[]) => Promise<void>): Promise<void> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= BATCH) {
      await flush(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await flush(batch);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}
