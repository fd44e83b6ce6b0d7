/** Thrown by a probe when waiting on is pointless (a unit failed): `waitFor` stops at once. */
export class FatalWait extends Error {}

/**
 * Poll until `probe` returns a value other than undefined/false, or fail after
 * the deadline with the last value seen: tests synchronize on outcomes, never
 * on sleeps. `intervalMs` may be a function of the time waited so far
 * (`adaptiveInterval`).
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number | ((elapsedMs: number) => number); what: string },
): Promise<T> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
      last = value;
    } catch (error) {
      if (error instanceof FatalWait) throw new Error(`while waiting for ${options.what}: ${error.message}`);
      last = error;
    }
    if (Date.now() > started + timeoutMs) {
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${options.what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    const interval = typeof options.intervalMs === 'function' ? options.intervalMs(Date.now() - started) : (options.intervalMs ?? 200);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Poll often while a short wait is still likely (20 ms for the first 3 s), then
 * every 100 ms: fine resolution for sub-second runs without the poller's own
 * requests eating into a 2-core machine during minute-long Ansible runs.
 */
export const adaptiveInterval = (elapsedMs: number): number => (elapsedMs < 3_000 ? 20 : 100);
