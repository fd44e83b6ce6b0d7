import { rm } from 'node:fs/promises';
import { writeFileAtomic } from './atomic.ts';

/**
 * One kind of record (units, plans, change sets), held in memory and in one
 * file per record. Two views: `latest` is what the engine last wrote and reads
 * back at once; `durable` holds only what has reached the disk, and is what the
 * API serves, so nobody is ever shown a state that a crash would take back
 * (an apply shown as started must be found Applying after a crash).
 * Writes of one record are chained, so the file and both views end in call order.
 */
export class RecordTable<V> {
  private readonly latest = new Map<string, V>();
  private readonly durable = new Map<string, V>();
  private readonly writes = new Map<string, Promise<void>>();

  constructor(private readonly fileOf: (key: string) => string) {}

  /** A record read from disk at start-up: durable already. */
  load(key: string, value: V): void {
    this.latest.set(key, value);
    this.durable.set(key, value);
  }

  get(key: string): V | undefined {
    return this.latest.get(key);
  }

  values(): V[] {
    return [...this.latest.values()];
  }

  getDurable(key: string): V | undefined {
    return this.durable.get(key);
  }

  durableValues(): V[] {
    return [...this.durable.values()];
  }

  async delete(key: string): Promise<void> {
    this.latest.delete(key);
    const previous = this.writes.get(key) ?? Promise.resolve();
    const removal = previous
      .catch(() => undefined)
      .then(() => rm(this.fileOf(key), { force: true }))
      .then(() => {
        this.durable.delete(key);
      });
    this.writes.set(key, removal);
    try {
      await removal;
    } finally {
      if (this.writes.get(key) === removal) this.writes.delete(key);
    }
  }

  async put(key: string, value: V): Promise<void> {
    this.latest.set(key, value);
    const previous = this.writes.get(key) ?? Promise.resolve();
    const write = previous
      .catch(() => undefined) // the earlier write's caller has its error; this one still goes
      .then(() => writeFileAtomic(this.fileOf(key), JSON.stringify(value, null, 2)))
      .then(() => {
        this.durable.set(key, value);
      });
    this.writes.set(key, write);
    try {
      await write;
    } finally {
      if (this.writes.get(key) === write) this.writes.delete(key);
    }
  }
}
