import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshBuild } from '../../bin/build-stamp.mjs';
import { repoRoot } from '../../testkit/files.ts';
import { freePort } from '../../testkit/ports.ts';
import { TestRepo } from '../../testkit/git-repo.ts';
import { onCleanup } from '../lib/cleanup.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import { stackFiles } from '../lib/fixtures.ts';
import { cleanEnv, timed } from '../lib/hand.ts';
import { signal } from '../lib/proc.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import { seed, STORE_SIZES } from './store.ts';

const bin = join(repoRoot, 'bin', 'plumbline.mjs');
const STACK = 'tiny';
/** Healthz is asked this often while a daemon starts: the granularity of the start figures. */
const POLL_MS = 5;

/** Run A and B `reps` times, alternating which goes first; the samples of each. */
async function alternate(reps: number, runs: Record<string, () => Promise<number>>): Promise<Record<string, number[]>> {
  const names = Object.keys(runs);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let rep = 0; rep < reps; rep += 1) {
    const order = rep % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name]!.push(await runs[name]!());
  }
  return samples;
}

const ratios = (a: readonly number[], b: readonly number[]) => a.map((v, i) => v / b[i]!);

/** Whether the command runs from the build: figures measured from sources say so. */
function buildNote(): string {
  return freshBuild(repoRoot)
    ? 'Plumbline ran from its build (dist/, fresh: npm run build).'
    : 'NO fresh build in dist/: Plumbline ran from its TypeScript sources through tsx (run npm run build first).';
}

/**
 * CLI: `plumbline --version` against `node -e 0`, from the build and from the
 * sources (PLUMBLINE_FROM_SOURCE=1); and a local `plumbline plan DIR --stack S`
 * of a tiny stack (10 terraform_data) against terraform init and plan run by
 * hand in a folder already initialized (warm; plumbline's own data dir of the
 * stack too: one plan before the measured ones).
 */
export async function cli(ctx: BenchContext): Promise<ScenarioResult> {
  const node = (args: string[], env: Record<string, string> = {}, okExitCodes = [0]) => () => timed(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, okExitCodes });
  const version = await alternate(ctx.reps + 1, {
    plumbline: node([bin, '--version']),
    node: node(['-e', '0']),
    sources: node([bin, '--version'], { PLUMBLINE_FROM_SOURCE: '1' }),
  });
  for (const k of Object.keys(version)) version[k]!.shift(); // the first round warms the page cache
  progress(`cli --version: ${median(version.plumbline!).toFixed(0)} ms (sources ${median(version.sources!).toFixed(0)} ms), node -e 0 ${median(version.node!).toFixed(0)} ms`);

  // The working tree of a repository with the stack, and the same stack as a hand-run folder.
  const work = ctx.dir('cli-work');
  const files = stackFiles(STACK, { value: 'v1', resources: ctx.scale.overheadResources });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    writeFileSync(join(work, path), text);
  }
  const hand = ctx.dir('cli-hand');
  writeFileSync(join(hand, 'main.tf'), files[`stacks/${STACK}/main.tf`]!);
  // plumbline plan keeps its per-directory caches (Terraform data dirs) under XDG_CACHE_HOME: the bench's own folder.
  const env = cleanEnv({ TF_CLI_CONFIG_FILE: ctx.terraformRc, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', XDG_CACHE_HOME: ctx.dir('cli-cache') });
  const terraform = async () =>
    (await timed('terraform', ['init', '-input=false', '-no-color'], { cwd: hand, env })) +
    (await timed('terraform', ['plan', '-input=false', '-no-color', '-var', 'value=v1'], { cwd: hand, env }));
  // Exit 2: the plan has changes (nothing was ever applied).
  const plumbline = () => timed(process.execPath, [bin, 'plan', work, '--stack', STACK], { cwd: work, env, okExitCodes: [2] });
  // Warm, both: the hand folder is initialized from here on, and so is plumbline's kept data dir of the stack.
  await terraform();
  await plumbline();
  const plan = await alternate(ctx.reps, { plumbline, terraform });
  progress(`cli plan: ${median(plan.plumbline!).toFixed(0)} ms, terraform init + plan ${median(plan.terraform!).toFixed(0)} ms`);

  return {
    id: 'cli',
    title: 'CLI',
    figures: [
      figure('cli.version.ratio', 'plumbline --version / node -e 0', 'ratio', ratios(version.plumbline!, version.node!), { text: '<= 2', test: (v) => v <= 2 }),
      figure('cli.version', 'plumbline --version', 'ms', version.plumbline!),
      figure('cli.version.sources', 'plumbline --version from the sources (tsx)', 'ms', version.sources!),
      figure('cli.node', 'node -e 0', 'ms', version.node!),
      figure('cli.plan.ratio', `plumbline plan --stack (${ctx.scale.overheadResources} terraform_data) / terraform init + plan, warm`, 'ratio', ratios(plan.plumbline!, plan.terraform!), {
        text: '<= 1.5',
        test: (v) => v <= 1.5,
      }),
      figure('cli.plan', 'plumbline plan --stack', 'ms', plan.plumbline!),
      figure('cli.plan.terraform', 'terraform init + plan by hand, warm', 'ms', plan.terraform!),
    ],
    details: {},
    notes: [buildNote(), 'Runs alternate which goes first; --version also has a discarded first round.'],
  };
}

/**
 * Start: the daemon from its start to its API answering (GET /healthz, asked
 * every 5 ms), on an empty state folder, from the build and from the sources;
 * then on a store holding a year of a large fleet (the store scenario's data).
 */
export async function start(ctx: BenchContext): Promise<ScenarioResult> {
  const repo = new TestRepo(ctx.dir('start-repo'));
  repo.commit(stackFiles(STACK, { value: 'v1' }), 'start');
  let run = 0;
  const fresh = (env: Record<string, string>) => async () => {
    run += 1;
    return (await startAndStop(ctx, ctx.dir(`start-${run}`), repo.url, env)).answeredMs;
  };
  const empty = await alternate(ctx.reps, { build: fresh({}), sources: fresh({ PLUMBLINE_FROM_SOURCE: '1' }) });
  progress(`start (empty state): ${median(empty.build!).toFixed(0)} ms, from sources ${median(empty.sources!).toFixed(0)} ms`);

  const size = ctx.smoke ? STORE_SIZES.smoke : STORE_SIZES.full;
  const seeded = ctx.dir('start-seeded');
  const stateDir = join(seeded, 's');
  const seedStarted = performance.now();
  await seed(stateDir, size);
  progress(`start: seeded ${size.units} units, ${size.plans} plans, ${size.events} events in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`);
  const large: number[] = [];
  const rss: number[] = [];
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const m = await startAndStop(ctx, seeded, repo.url, {});
    large.push(m.answeredMs);
    rss.push(m.rssMiB);
  }
  progress(`start (store of ${size.units} units): ${median(large).toFixed(0)} ms`);

  return {
    id: 'start',
    title: 'Daemon start',
    figures: [
      figure('start.empty', 'start to API answering, empty state', 'ms', empty.build!, { text: '<= 400 ms', test: (v) => v <= 400 }),
      figure('start.empty.sources', 'the same from the sources (tsx)', 'ms', empty.sources!),
      figure('start.store', `start to API answering, ${size.units} units, ${size.plans} plans, ${size.events} events`, 'ms', large, { text: '<= 1000 ms', test: (v) => v <= 1000 }),
      figure('start.store.rss', 'daemon resident memory when the API answers (that store)', 'MiB', rss),
    ],
    details: { size },
    notes: [
      buildNote(),
      'Each empty-state start has a new state folder (the API token, the store and the lock are created); the repository has one tiny stack.',
      'The large store: the daemon opens it (integrity check, migrations, start-up queries) before its API listens; it is stopped (SIGTERM) as soon as the API answers.',
    ],
  };
}

/** Start a daemon on `dir`, time its API's first answer, stop it. */
async function startAndStop(ctx: BenchContext, dir: string, sourceUrl: string, env: Record<string, string>): Promise<{ answeredMs: number; rssMiB: number }> {
  const port = await freePort();
  const configFile = join(dir, 'plumbline.yaml');
  writeFileSync(
    configFile,
    [
      'source:',
      `  url: ${sourceUrl}`,
      '  branch: main',
      '  interval: 24h',
      `stateDir: ${join(dir, 's')}`,
      'api:',
      `  listen: 127.0.0.1:${port}`,
      'terraform:',
      `  cliConfigFile: ${ctx.terraformRc}`,
      'defaults:',
      '  approval: manual',
      '  drift:',
      '    interval: off',
      '',
    ].join('\n'),
  );
  const log = openSync(join(dir, 'daemon.log'), 'a');
  const started = performance.now();
  const child = spawn(process.execPath, [bin, 'daemon', '--config', configFile], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const forget = onCleanup(`start daemon ${dir}`, async () => {
    signal(child.pid!, 'SIGKILL');
    await exited;
  });
  let answeredMs: number | undefined;
  let gone = false;
  void exited.then(() => (gone = true));
  while (answeredMs === undefined) {
    if (gone) throw new Error(`the daemon exited at start:\n${readFileSync(join(dir, 'daemon.log'), 'utf8').slice(-2000)}`);
    if (performance.now() - started > 60_000) throw new Error('the daemon did not answer within 60 s');
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) answeredMs = performance.now() - started;
    } catch {
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  // A graceful stop waits for a run the start began; the figure is taken, so it gets 30 s, then the group is killed.
  signal(child.pid!, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
  if (!gone) signal(-child.pid!, 'SIGKILL');
  await forget();
  return { answeredMs, rssMiB };
}
