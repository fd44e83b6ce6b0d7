import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { BIG_PLAN, startFleet } from '../../testkit/ui-fleet.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';

const FULL_SIZE = { units: 1_000, resources: 5_000 };
const SMOKE_SIZE = { units: 200, resources: 1_000 };
const MIB = 2 ** 20;

/**
 * The review UI: the overview of 1,000 units and a plan of 5,000 resources,
 * served by the real API server and UI over the fake engine's data (the
 * pages' cost is rendering and the browser's, not the store's, which the
 * store scenario measures), loaded in headless Chromium. "Interactive" is
 * the moment the page's script has run (every handler in place), measured
 * from the start of the navigation; then the time a filter or search takes
 * to answer, and the plan page's size as sent (raw and gzip).
 */
export async function ui(ctx: BenchContext): Promise<ScenarioResult> {
  const size = ctx.smoke ? SMOKE_SIZE : FULL_SIZE;
  const fleet = await startFleet(size);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ baseURL: fleet.server.url });
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByLabel('Token').fill('approver-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${fleet.server.url}/`);

    const readyAt = async (path: string): Promise<number> => {
      await page.goto(path, { waitUntil: 'domcontentloaded' });
      await page.waitForFunction(() => document.documentElement.dataset.readyAt !== undefined);
      return page.evaluate(() => Number(document.documentElement.dataset.readyAt));
    };
    const answerTime = async (label: string, text: string, settled: () => Promise<unknown>): Promise<number> => {
      const started = performance.now();
      await page.getByLabel(label).fill(text);
      await settled();
      return performance.now() - started;
    };

    const overview: number[] = [];
    const filter: number[] = [];
    const plan: number[] = [];
    const search: number[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      overview.push(await readyAt('/'));
      filter.push(await answerTime('Name', 'stack-77', () => page.waitForFunction(() => document.querySelectorAll('tr[data-unit]:not(.hidden)').length < 20)));
      plan.push(await readyAt(`/ui/plans/${BIG_PLAN}`));
      search.push(await answerTime('Search resources', 'record_4321', () => page.getByText(/\d+ match/).waitFor()));
      progress(`ui ${rep + 1}/${ctx.reps}: overview ${overview.at(-1)} ms, plan ${plan.at(-1)} ms, filter ${filter.at(-1)!.toFixed(0)} ms, search ${search.at(-1)!.toFixed(0)} ms`);
    }
    const raw = await page.request.get(`/ui/plans/${BIG_PLAN}`, { headers: { 'accept-encoding': 'identity' } });
    const body = await raw.body();
    const overviewBody = await (await page.request.get('/', { headers: { 'accept-encoding': 'identity' } })).body();
    const planMiB = body.length / MIB;
    const planGzipMiB = gzipSync(body).length / MIB;
    return {
      id: 'ui',
      title: `Review UI (${size.units} units; a plan of ${size.resources} resources; headless Chromium)`,
      figures: [
        figure('ui.overview', `overview of ${size.units} units: interactive`, 'ms', overview, { text: '<= 1000 ms', test: (v) => v <= 1000 }),
        figure('ui.filter', 'overview: a name filter answered', 'ms', filter),
        figure('ui.plan', `plan of ${size.resources} resources: interactive`, 'ms', plan, { text: '<= 1000 ms', test: (v) => v <= 1000 }),
        figure('ui.search', 'plan: a search answered', 'ms', search),
        figure('ui.plan.size', 'plan page as sent, uncompressed', 'MiB', [planMiB], { text: '<= 2 MiB', test: (v) => v <= 2 }),
        figure('ui.plan.gzip', 'plan page as sent to a browser (gzip)', 'MiB', [planGzipMiB]),
        figure('ui.overview.size', 'overview page, uncompressed', 'MiB', [overviewBody.length / MIB]),
      ],
      details: { size, planBytes: body.length, planGzipBytes: gzipSync(body).length, overviewBytes: overviewBody.length },
      notes: [
        `The plan page: ${body.length} bytes uncompressed, ${gzipSync(body).length} bytes as gzip (what a browser receives); the overview: ${overviewBody.length} bytes uncompressed.`,
        'Interactive: the navigation start to the end of the page script (handlers in place), as performance.now() in the page reads it.',
        "Served by the daemon's API server and UI over the fake engine's data (testkit/ui-fleet.ts), so the figures are the UI's own; the store scenario measures reading the store.",
        'A plan above 300 items lists its items collapsed and fetches each diff when it is opened.',
      ],
    };
  } finally {
    await browser.close();
    await fleet.close();
  }
}
