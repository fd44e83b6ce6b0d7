/**
 * `items.map(fn)` with at most `limit` calls in flight, results in input order.
 * For many small file reads (a thousand manifests): run one after another,
 * each waits out a thread-pool round trip; all at once, they exhaust file
 * descriptors.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
