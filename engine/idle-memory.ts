import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Gives back the memory a burst of work left behind once the daemon is quiet.
 *
 * While the daemon works through many units (a first reconcile, a commit that
 * plans hundreds of them, the first load of a large repository's definitions),
 * V8 grows its young generation to its largest size (2 x 16 MiB) and its old
 * generation fills with garbage. When the work stops nothing allocates any
 * more, so no collection runs that would shrink them: a daemon with 1,050
 * units held a 55 MiB heap around 18 MiB of live objects until its next burst.
 * One full collection after the burst returns it (the young generation shrinks
 * back to 1 MiB).
 *
 * So: QUIET_MS after the last run ended (or after a poll, when no run is in
 * flight), if the heap V8 holds has grown by GROWTH_BYTES since the last
 * collection made here, collect once. Idle polls grow the heap by far less,
 * and cost no collection.
 *
 * V8 shrinks the young generation in a full collection only when it finds the
 * allocation rate low over its last 5 s: 3 s after a burst that window still
 * holds the burst, so the collection frees the garbage but leaves the young
 * generation at 2 x 16 MiB (measured: a daemon that loaded 1,050 units kept
 * 31 MiB of young generation, 117 MiB resident, after its collection; one
 * more collection 30 s later brought it to 1 MiB and 86 MiB resident). So
 * while it is still above YOUNG_BYTES after a collection, collect again after
 * RETRY_MS of quiet, at most RETRIES times (polls in between allocate, and
 * may keep the rate up).
 */
export const QUIET_MS = 3_000;
export const GROWTH_BYTES = 16 * 2 ** 20;
export const RETRY_MS = 10_000;
export const RETRIES = 3;
/** The young generation a quiet heap keeps (V8 starts it at 2 x 1 MiB here). */
export const YOUNG_BYTES = 4 * 2 ** 20;

export interface IdleCollectorOptions {
  quietMs?: number;
  growthBytes?: number;
  /** The heap V8 holds now, in bytes. */
  heapBytes?: () => number;
  /** One full collection. */
  collect?: () => void;
  retryMs?: number;
  retries?: number;
  youngBytes?: number;
  /** The memory the young generation holds now, in bytes. */
  youngGenerationBytes?: () => number;
}

export class IdleCollector {
  readonly #quietMs: number;
  readonly #growthBytes: number;
  readonly #heapBytes: () => number;
  readonly #collect: () => void;
  readonly #retryMs: number;
  readonly #retries: number;
  readonly #youngBytes: number;
  readonly #youngGenerationBytes: () => number;
  #running = 0;
  /** Collections still allowed to shrink the young generation after the last one. */
  #retriesLeft = 0;
  #timer: NodeJS.Timeout | undefined;
  #baseline: number;
  /** Collections made, for tests and logs. */
  collections = 0;

  constructor(options: IdleCollectorOptions = {}) {
    this.#quietMs = options.quietMs ?? QUIET_MS;
    this.#growthBytes = options.growthBytes ?? GROWTH_BYTES;
    this.#heapBytes = options.heapBytes ?? (() => getHeapStatistics().total_heap_size);
    this.#collect = options.collect ?? fullCollection;
    this.#retryMs = options.retryMs ?? RETRY_MS;
    this.#retries = options.retries ?? RETRIES;
    this.#youngBytes = options.youngBytes ?? YOUNG_BYTES;
    this.#youngGenerationBytes = options.youngGenerationBytes ?? youngGenerationBytes;
    this.#baseline = this.#heapBytes();
  }

  runStarted(): void {
    this.#running += 1;
    this.#wait();
  }

  runFinished(): void {
    this.#running = Math.max(0, this.#running - 1);
    this.#wait();
  }

  /**
   * A poll ended (the first one after a start loads every definition). It
   * starts the wait when none is under way, and does not restart one: polls
   * in quick succession (`plumbline sync` in a loop, webhooks) would put the
   * collection off for ever.
   */
  polled(): void {
    if (this.#running === 0 && !this.#timer) this.#wait();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** (Re)start the wait for quiet; none while a run is in flight. */
  #wait(ms = this.#quietMs): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#running > 0) return;
    this.#timer = setTimeout(() => this.#quiet(), ms);
    // Never what keeps a stopping daemon alive.
    this.#timer.unref();
  }

  #quiet(): void {
    this.#timer = undefined;
    if (this.#running > 0) return;
    const grown = this.#heapBytes() - this.#baseline >= this.#growthBytes;
    if (grown) this.#retriesLeft = this.#retries;
    else if (this.#retriesLeft > 0 && this.#youngGenerationBytes() > this.#youngBytes) this.#retriesLeft -= 1;
    else return;
    this.#collect();
    this.collections += 1;
    this.#baseline = this.#heapBytes();
    if (this.#retriesLeft > 0 && this.#youngGenerationBytes() > this.#youngBytes) this.#wait(this.#retryMs);
    else this.#retriesLeft = 0;
  }
}

/** The memory V8's young generation holds now (both semi-spaces). */
function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
}

let collector: (() => void) | null | undefined;

/**
 * A full, synchronous collection. Node offers one only with `--expose-gc`,
 * which a daemon started as `plumbline daemon` does not have: the flag is set
 * now and the function taken from a new context, where V8 installs it.
 */
export function fullCollection(): void {
  if (collector === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      // A runtime that refuses the flag leaves the memory to V8's own schedule: never an error.
      collector = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      collector = null;
    }
  }
  collector?.();
}
