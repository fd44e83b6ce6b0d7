import { appendFile, mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { UnitReads } from '../definitions/reads.ts';
import type { ChangeSet, HistoryEvent, PlanRecord, SourceStatus, UnitStatus } from '../model.ts';
import { unitFileName } from '../paths.ts';
import { RECORD_IDENTIFIERS, secrets } from '../secrets.ts';
import { fsyncDir, writeFileAtomic } from './atomic.ts';
import { RecordTable } from './record-table.ts';

/**
 * The embedded store: one JSON file per unit, plan and change set, written
 * atomically, and an append-only history log fsynced per event. Records are held
 * in memory as well. The engine reads its own writes at once (`getUnit`,
 * `listPlans`...); the API reads the `published*` views, which hold only what is
 * on disk, so an answer never shows a state a crash would undo. Every record is
 * masked before it is written: the store never holds a secret.
 */
export class Store {
  private readonly units: RecordTable<UnitStatus>;
  private readonly plans: RecordTable<StoredPlan>;
  private readonly changeSets: RecordTable<ChangeSet>;
  private readonly reads: RecordTable<UnitReads>;
  /** Durable events only, in seq order. */
  private history: HistoryEvent[] = [];
  private source: SourceStatus | undefined;
  private seq = 0;
  /**
   * Records found damaged at start (a torn or truncated file): moved aside
   * into `store/damaged/`, never silently dropped, and shown in `status`.
   */
  readonly damaged: DamagedRecord[] = [];
  /** Told of every history event once it is durable (notifications). */
  onHistory: ((event: HistoryEvent) => void) | undefined;
  private readonly dirs: { units: string; plans: string; changeSets: string; reads: string; history: string; source: string };

  constructor(private readonly root: string) {
    this.dirs = {
      units: join(root, 'units'),
      plans: join(root, 'plans'),
      changeSets: join(root, 'changesets'),
      reads: join(root, 'reads'),
      history: join(root, 'history.jsonl'),
      source: join(root, 'source.json'),
    };
    this.units = new RecordTable((name) => join(this.dirs.units, `${fileSafe(name)}.json`));
    this.plans = new RecordTable((id) => join(this.dirs.plans, `${fileSafe(id)}.json`));
    this.changeSets = new RecordTable((id) => join(this.dirs.changeSets, `${fileSafe(id)}.json`));
    this.reads = new RecordTable((unit) => join(this.dirs.reads, `${fileSafe(unit)}.json`));
  }

  async open(): Promise<void> {
    await mkdir(this.dirs.units, { recursive: true, mode: 0o700 });
    await mkdir(this.dirs.plans, { recursive: true, mode: 0o700 });
    await mkdir(this.dirs.changeSets, { recursive: true, mode: 0o700 });
    await mkdir(this.dirs.reads, { recursive: true, mode: 0o700 });
    const damaged = join(this.root, 'damaged');
    const read = <T>(dir: string) => readJsonDir<T>(dir, damaged, this.damaged);
    for (const record of await read<UnitReads>(this.dirs.reads)) this.reads.load(record.unit, record);
    for (const record of await read<ChangeSet>(this.dirs.changeSets)) this.changeSets.load(record.id, record);
    for (const record of await read<UnitStatus>(this.dirs.units)) this.units.load(record.name, record);
    for (const record of await read<StoredPlan>(this.dirs.plans)) this.plans.load(record.id, record);
    this.source = await readJsonOrSetAside<SourceStatus>(this.dirs.source, damaged, this.damaged);
    this.history = (await readHistory(this.dirs.history)).sort((a, b) => a.seq - b.seq);
    // Appends may reach the disk out of order: continue after the largest number.
    this.seq = this.history.reduce((max, e) => Math.max(max, e.seq), 0);
  }

  // Units

  getUnit(name: string): UnitStatus | undefined {
    return this.units.get(name);
  }

  listUnits(): UnitStatus[] {
    return byName(this.units.values());
  }

  publishedUnits(): UnitStatus[] {
    return byName(this.units.durableValues());
  }

  /** A pruned unit: its record goes, its history and plans stay. */
  async deleteUnit(name: string): Promise<void> {
    await this.units.delete(name);
  }

  async putUnit(status: UnitStatus): Promise<UnitStatus> {
    const masked = secrets.maskDeep(status, RECORD_IDENTIFIERS);
    await this.units.put(masked.name, masked);
    return masked;
  }

  // Plans

  getPlan(id: string): StoredPlan | undefined {
    return this.plans.get(id);
  }

  publishedPlan(id: string): StoredPlan | undefined {
    return this.plans.getDurable(id);
  }

  listPlans(filter: { unit?: string } = {}): StoredPlan[] {
    return newestFirst(this.plans.values(), filter);
  }

  publishedPlans(filter: { unit?: string } = {}): StoredPlan[] {
    return newestFirst(this.plans.durableValues(), filter);
  }

  async putPlan(plan: StoredPlan): Promise<StoredPlan> {
    const masked = secrets.maskDeep(plan, RECORD_IDENTIFIERS);
    await this.plans.put(masked.id, masked);
    return masked;
  }

  // Change sets

  getChangeSet(id: string): ChangeSet | undefined {
    return this.changeSets.get(id);
  }

  publishedChangeSets(): ChangeSet[] {
    return this.changeSets.durableValues().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async putChangeSet(changeSet: ChangeSet): Promise<ChangeSet> {
    const masked = secrets.maskDeep(changeSet, RECORD_IDENTIFIERS);
    await this.changeSets.put(masked.id, masked);
    return masked;
  }

  // What each unit reads (which commits plan it)

  getReads(unit: string): UnitReads | undefined {
    return this.reads.get(unit);
  }

  async putReads(reads: UnitReads): Promise<void> {
    await this.reads.put(reads.unit, reads);
  }

  // Source

  getSource(): SourceStatus | undefined {
    return this.source;
  }

  async putSource(status: SourceStatus): Promise<void> {
    this.source = secrets.maskDeep(status, RECORD_IDENTIFIERS);
    await writeFileAtomic(this.dirs.source, JSON.stringify(this.source, null, 2));
  }

  // History

  async appendHistory(event: Omit<HistoryEvent, 'seq' | 'at'> & { at?: string }): Promise<HistoryEvent> {
    const full = secrets.maskDeep({ seq: ++this.seq, at: event.at ?? new Date().toISOString(), ...event }, RECORD_IDENTIFIERS) as HistoryEvent;
    const handle = await open(this.dirs.history, 'a', 0o600);
    try {
      await handle.appendFile(`${JSON.stringify(full)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (full.seq === 1) await fsyncDir(this.root);
    insertBySeq(this.history, full);
    this.onHistory?.(full);
    return full;
  }

  /** Durable events, newest first. */
  listHistory(filter: { unit?: string; limit?: number } = {}): HistoryEvent[] {
    const matching = filter.unit ? this.history.filter((e) => e.unit === filter.unit) : this.history;
    const limit = filter.limit ?? 200;
    return matching.slice(-limit).reverse();
  }
}

function byName(units: UnitStatus[]): UnitStatus[] {
  return units.sort((a, b) => a.name.localeCompare(b.name));
}

function newestFirst(plans: StoredPlan[], filter: { unit?: string }): StoredPlan[] {
  return plans
    .filter((p) => !filter.unit || p.unit === filter.unit)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
}

/** Concurrent appends finish in any order; the log in memory stays in seq order. */
function insertBySeq(history: HistoryEvent[], event: HistoryEvent): void {
  let at = history.length;
  while (at > 0 && history[at - 1]!.seq > event.seq) at -= 1;
  history.splice(at, 0, event);
}

/** A plan as stored: the API record plus where its run folder is. */
export interface StoredPlan extends PlanRecord {
  runId: string;
  /** What the unit manages once this plan is applied (resource addresses, hosts). */
  managed?: string[];
}

function fileSafe(name: string): string {
  return unitFileName(name).replace(/[^A-Za-z0-9._~-]/g, '_');
}

export interface DamagedRecord {
  /** Where it was (absolute). */
  file: string;
  /** Where it is now, for a person to look at. */
  movedTo: string;
  error: string;
}

async function readJsonDir<T>(dir: string, damagedDir: string, damaged: DamagedRecord[]): Promise<T[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  const records: T[] = [];
  for (const name of names) {
    const record = await readJsonOrSetAside<T>(join(dir, name), damagedDir, damaged);
    if (record) records.push(record);
  }
  return records;
}

/**
 * A record that does not parse never keeps the daemon from starting: it is
 * moved aside (kept for a person, never deleted) and the engine goes on as if
 * it were absent: the unit it described is planned again.
 */
async function readJsonOrSetAside<T>(file: string, damagedDir: string, damaged: DamagedRecord[]): Promise<T | undefined> {
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
    return value as T;
  } catch (error) {
    await mkdir(damagedDir, { recursive: true, mode: 0o700 });
    const movedTo = join(damagedDir, `${basename(dirname(file))}-${basename(file, '.json')}-${Date.now()}.json`);
    await rename(file, movedTo);
    damaged.push({ file, movedTo, error: (error as Error).message });
    return undefined;
  }
}

/** A crash can cut the last line of the log short: keep every complete line. */
async function readHistory(file: string): Promise<HistoryEvent[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const events: HistoryEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as HistoryEvent);
    } catch {
      // A torn final line from a crash mid-append; everything before it is intact.
    }
  }
  if (!text.endsWith('\n') && text.length > 0) await appendFile(file, '\n');
  return events;
}
