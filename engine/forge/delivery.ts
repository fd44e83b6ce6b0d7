import type { Logger } from '../log.ts';
import { secrets } from '../secrets.ts';
import { ForgeError } from './errors.ts';

export interface DeliveryOptions {
  /** Attempts of one state before it is given up (a newer state starts again). */
  maxAttempts?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Requests in flight at once, across all keys. */
  concurrency?: number;
}

interface Slot {
  /** The newest state not yet delivered; null once taken. */
  job: (() => Promise<void>) | null;
  what: string;
  /** Ends a backoff early (shutdown). */
  wake?: () => void;
}

/**
 * Background delivery to the forge, one slot per thing on the forge (a
 * status of a commit, the comment of a merge request). A newer state of the
 * same thing replaces the one waiting, so the queue never holds more than
 * one per key and the forge ends at the newest state. Failures are retried
 * with exponential backoff; a rate limit's wait holds every key. Nothing here
 * ever throws to the caller: plans and applies go on whatever the forge does.
 */
export class DeliveryQueue {
  private readonly slots = new Map<string, Slot>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly options: Required<DeliveryOptions>;
  private inFlight = 0;
  private readonly waitingForTurn: Array<() => void> = [];
  private pausedUntil = 0;
  private stopped = false;

  constructor(
    private readonly log: Logger,
    options: DeliveryOptions = {},
  ) {
    this.options = { maxAttempts: 8, firstDelayMs: 1000, maxDelayMs: 5 * 60_000, concurrency: 4, ...options };
  }

  /** Deliver `job` for `key`, replacing a state of the same key that is still waiting. */
  put(key: string, what: string, job: () => Promise<void>): void {
    if (this.stopped) return;
    const slot = this.slots.get(key);
    if (slot) {
      // Taken at the next turn of its worker: after a backoff, not at once, so a flood of updates never hammers a forge that is down.
      slot.job = job;
      slot.what = what;
      return;
    }
    this.slots.set(key, { job, what });
    const run = this.work(key).finally(() => this.running.delete(key));
    this.running.set(key, run);
  }

  /** Keys with a state still to deliver (tests, metrics). */
  get pending(): number {
    return this.slots.size;
  }

  /** Wait for what is queued (shutdown), at most `timeoutMs`; then stop taking more. */
  async drain(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.running.values()), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.stopped = true;
    for (const slot of this.slots.values()) slot.wake?.();
  }

  private async work(key: string): Promise<void> {
    const slot = this.slots.get(key)!;
    let attempt = 0;
    while (slot.job && !this.stopped) {
      const job = slot.job;
      const what = slot.what;
      slot.job = null;
      attempt += 1;
      try {
        await this.turn(() => job());
        attempt = 0;
        this.log.debug({ what }, 'forge updated');
        continue;
      } catch (error) {
        if (slot.job) {
          // A newer state is waiting: it replaces this one, retried or not.
          attempt = 0;
          continue;
        }
        const typed = error instanceof ForgeError ? error : undefined;
        const why = secrets.maskText(error instanceof Error ? error.message : String(error));
        const fields = { what, attempt, code: typed?.code ?? 'E_INTERNAL', why, ...(typed?.hint ? { hint: typed.hint } : {}) };
        if (!typed?.retryable || attempt >= this.options.maxAttempts) {
          this.log.warn(fields, 'forge not updated: given up');
          continue;
        }
        const backoff = Math.min(this.options.maxDelayMs, this.options.firstDelayMs * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
        if (typed.retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, Date.now() + typed.retryAfterMs);
        const delay = Math.max(backoff, this.pausedUntil - Date.now());
        this.log.info({ ...fields, delayMs: Math.round(delay) }, 'forge not updated: retrying');
        slot.job = job;
        await this.sleep(slot, delay);
      }
    }
    this.slots.delete(key);
  }

  /** Run `fn` when fewer than `concurrency` requests are in flight and no rate limit holds. */
  private async turn(fn: () => Promise<void>): Promise<void> {
    while (this.inFlight >= this.options.concurrency) await new Promise<void>((r) => this.waitingForTurn.push(r));
    this.inFlight += 1;
    try {
      const hold = this.pausedUntil - Date.now();
      if (hold > 0) await new Promise((r) => setTimeout(r, hold).unref());
      await fn();
    } finally {
      this.inFlight -= 1;
      this.waitingForTurn.shift()?.();
    }
  }

  /** Back off; shutdown ends it early. */
  private sleep(slot: Slot, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        slot.wake = undefined;
        resolve();
      }
      slot.wake = done;
    });
  }
}
