/** Node fires a timer longer than 2^31-1 ms (about 24.8 days) after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

/**
 * setTimeout for any delay: long delays are waited out in chunks, so a 30-day
 * review window really lasts 30 days. Unref'd: a pending timer never keeps the
 * process alive on its own.
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let handle: NodeJS.Timeout;
  const due = Date.now() + Math.max(0, ms);
  const arm = () => {
    const left = due - Date.now();
    handle = setTimeout(left > MAX_TIMER_MS ? arm : fn, Math.min(Math.max(0, left), MAX_TIMER_MS));
    handle.unref();
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}
