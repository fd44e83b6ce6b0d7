import { TestRepo } from '../../testkit/git-repo.ts';
import { startPostgres, type PostgresServer } from '../../testkit/postgres.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { stackFiles } from '../lib/fixtures.ts';
import type { ScenarioResult } from '../lib/report.ts';
import { figure } from '../lib/report.ts';

const CONCURRENCY = 4;

/** Members sharing one new database of `pg`, started together; the first reconcile begins when the last answers. */
async function members(ctx: BenchContext, pg: PostgresServer, label: string, count: number, sourceUrl: string): Promise<BenchDaemon[]> {
  const url = await pg.createDatabase();
  const keyDir = ctx.dir(`${label}-key`);
  const started: BenchDaemon[] = [];
  for (let i = 1; i <= count; i += 1) {
    started.push(
      await ctx.daemon({
        dir: ctx.dir(`${label}-m${i}`),
        label: `${label}-m${i}`,
        sourceUrl,
        concurrency: CONCURRENCY,
        extraConfig: ['store:', `  url: ${url}`, `  passwordFile: ${pg.passwordFile}`, `  sealingKeyFile: ${keyDir}/sealing.key`, 'cluster:', `  name: ${label}-m${i}`, '  leaseTTL: 10s'],
      }),
    );
  }
  return started;
}

/** From a sync on the leader (the first member started: it polls for all) until every stack is applied. */
async function firstReconcile(daemons: BenchDaemon[], names: string[], revision: string): Promise<number> {
  const t0 = performance.now();
  await daemons[0]!.sync();
  await daemons[0]!.waitSettled(revision, names, { what: `${names.length} stacks applied`, timeoutMs: 60 * 60_000, intervalMs: 500 });
  return performance.now() - t0;
}

/**
 * Cluster: the first reconcile of `clusterStacks` stacks whose applies wait
 * 1 s (a cloud API's latency), by one member and by three sharing one
 * PostgreSQL, concurrency 4 each, alternating which goes first. Each round
 * starts from an empty database and empty state folders.
 */
export async function cluster(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.scale.clusterStacks;
  const names = Array.from({ length: n }, (_, i) => `c-${String(i + 1).padStart(3, '0')}`);
  const pg = await startPostgres();
  const one: number[] = [];
  const three: number[] = [];
  const ratio: number[] = [];
  try {
    for (let rep = 0; rep < ctx.heavyReps; rep += 1) {
      const repo = new TestRepo(ctx.dir(`cluster-repo-${rep}`));
      const revision = repo.commit(Object.assign({}, ...names.map((name) => stackFiles(name, { value: `r${rep}`, sleepSeconds: 1 }))), `${n} stacks`);
      const measure = async (count: number): Promise<number> => {
        const group = await members(ctx, pg, `cl${rep}x${count}`, count, repo.url);
        try {
          return await firstReconcile(group, names, revision);
        } finally {
          for (const daemon of group) await ctx.stopDaemon(daemon);
        }
      };
      const order = rep % 2 === 0 ? [1, 3] : [3, 1];
      const times: Record<number, number> = {};
      for (const count of order) times[count] = await measure(count);
      one.push(times[1]!);
      three.push(times[3]!);
      ratio.push(times[1]! / times[3]!);
      progress(`cluster ${rep + 1}/${ctx.heavyReps}: 1 member ${(times[1]! / 1000).toFixed(1)} s, 3 members ${(times[3]! / 1000).toFixed(1)} s, ratio ${(times[1]! / times[3]!).toFixed(2)}`);
    }
  } finally {
    await pg.stop();
  }
  return {
    id: 'cluster',
    title: 'Cluster',
    figures: [
      figure('cluster.ratio', `${n} stacks, 1 s applies: 1 member / 3 members`, 'ratio', ratio, { text: '>= 2.5', test: (v) => v >= 2.5 }),
      figure('cluster.one', '  1 member, concurrency 4 (sync -> all applied)', 'ms', one),
      figure('cluster.three', '  3 members, concurrency 4 each (sync -> all applied)', 'ms', three),
    ],
    details: {},
    notes: [
      `Each stack has one terraform_data resource whose local-exec waits 1 s; a round is the first reconcile of all ${n} from empty state, on one PostgreSQL 15 started by the benchmark.`,
      'The members run on this one machine: terraform’s own CPU time is shared by all of them, so the ratio is bounded by the cores, not by the members.',
    ],
  };
}
