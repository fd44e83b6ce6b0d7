/**
 * Child process of the store scenario: open the store in the given state
 * directory as the daemon does at start, run its start-up queries, and print
 * the time and the resident memory as JSON.
 */
import { silentLogger } from '../../engine/log.ts';
import { openStore } from '../../engine/store/open.ts';

export interface OpenMeasure {
  openMs: number;
  rssBytes: number;
  units: number;
  livePlans: number;
  lastSeq: number;
}

async function main(stateDir: string): Promise<void> {
  const started = performance.now();
  const store = await openStore({ stateDir }, silentLogger);
  const units = await store.listUnits();
  const live = await store.listPlans({ status: ['Pending', 'Approved', 'Applying'] });
  const [last] = await store.listHistory({ limit: 1 });
  const openMs = performance.now() - started;
  const measure: OpenMeasure = { openMs, rssBytes: process.memoryUsage().rss, units: units.length, livePlans: live.length, lastSeq: last?.seq ?? 0 };
  await store.close();
  process.stdout.write(`${JSON.stringify(measure)}\n`);
}

if (process.argv[2]) await main(process.argv[2]);
