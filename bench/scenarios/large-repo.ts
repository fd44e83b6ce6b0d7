import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestRepo } from '../../testkit/git-repo.ts';
import { FatalWait, waitFor } from '../../testkit/wait.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { inventoryFiles, pingPlay, stackFiles } from '../lib/fixtures.ts';
import { cleanEnv, timed } from '../lib/hand.ts';

/**
 * The large repository of the idle and precision measurements: `scale.stacks`
 * terraform_data stacks and `scale.inventories` inventories (one host each,
 * a reachability play that plans as NoChanges). Every `hubEvery`-th stack is a
 * "hub" whose output feeds two dependants (the next two stacks); all others
 * are independent leaves.
 */
export interface LargeRepo {
  repo: TestRepo;
  daemon: BenchDaemon;
  revision: string;
  leaves: string[];
  hubs: Array<{ name: string; dependants: string[] }>;
  values: Map<string, string>;
  upstreamOf: Map<string, string>;
  warmup: { seconds: number; processes: Record<string, number>; units: number; rssMiB: number };
}

export const stackName = (i: number) => `st-${String(i).padStart(4, '0')}`;

/** Branches under this prefix are previewed by the large repository's daemon. */
export const PREVIEW_BRANCHES = 'feature/';

let shared: Promise<LargeRepo> | undefined;

/** Built once per run and shared by the idle and precision measurements. */
export function largeRepo(ctx: BenchContext): Promise<LargeRepo> {
  shared ??= build(ctx);
  return shared;
}

async function build(ctx: BenchContext): Promise<LargeRepo> {
  const { scale } = ctx;
  const pool = scale.inventories > 0 ? await ctx.hosts() : undefined;
  const repo = new TestRepo(ctx.dir('large-repo'));
  const files: Record<string, string> = {};
  const leaves: string[] = [];
  const hubs: LargeRepo['hubs'] = [];
  const values = new Map<string, string>();
  const upstreamOf = new Map<string, string>();
  for (let i = 0; i < scale.stacks; i += 1) {
    const name = stackName(i);
    const hubIndex = i - (i % scale.hubEvery);
    const offset = i % scale.hubEvery;
    const upstream = offset === 1 || offset === 2 ? stackName(hubIndex) : undefined;
    values.set(name, 'v0');
    if (offset === 0) hubs.push({ name, dependants: [stackName(i + 1), stackName(i + 2)].filter((_, k) => i + 1 + k < scale.stacks) });
    else if (upstream) upstreamOf.set(name, upstream);
    else leaves.push(name);
    Object.assign(files, stackFiles(name, { value: 'v0', ...(upstream ? { upstream } : {}) }));
  }
  for (let j = 0; j < scale.inventories; j += 1) {
    const host = pool!.hosts[j % pool!.hosts.length]!;
    Object.assign(files, inventoryFiles(`inv-${String(j).padStart(2, '0')}`, { hosts: [host], knownHosts: pool!.knownHosts(), play: pingPlay }));
  }
  const revision = repo.commit(files, `${scale.stacks} stacks, ${scale.inventories} inventories`);

  progress(`large repository: seeding the Terraform state of ${scale.stacks} stacks...`);
  const templates = await stateTemplates(ctx);
  const daemon = await ctx.daemon({
    dir: ctx.dir('large'),
    label: 'large',
    sourceUrl: repo.url,
    concurrency: 4,
    // The previews scenario opens branches of this repository.
    previews: [`refs/heads/${PREVIEW_BRANCHES}*`],
    ...(pool ? { privateKeyFile: pool.ssh.privateKeyFile } : {}),
    seed: (stateDir) => {
      for (const name of values.keys()) {
        const dir = join(stateDir, 'units', name);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        const state = JSON.parse(upstreamOf.has(name) ? templates.dependant : templates.leaf) as { lineage: string };
        state.lineage = randomUUID();
        writeFileSync(join(dir, 'terraform.tfstate'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      }
    },
  });
  progress(`large repository: first reconcile of ${scale.stacks} stacks and ${scale.inventories} inventories (concurrency 4)...`);
  const started = performance.now();
  await daemon.sync();
  const total = scale.stacks + scale.inventories;
  let lastReport = performance.now();
  await waitFor(
    async () => {
      const units = await daemon.units();
      const failed = units.find((u) => u.phase === 'Failed' || u.phase === 'Stalled' || u.phase === 'Blocked');
      if (failed) throw new FatalWait(`${failed.name} is ${failed.phase} (${failed.reason}): ${failed.message}\n${daemon.logTail(1500)}`);
      const settled = units.filter((u) => u.phase === 'InSync' && u.lastAppliedRevision === revision).length;
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now();
        progress(`  ${settled}/${total} units in sync after ${((performance.now() - started) / 1000).toFixed(0)} s`);
      }
      return settled === total;
    },
    { what: `the first reconcile of ${total} units`, timeoutMs: ctx.smoke ? 10 * 60_000 : 90 * 60_000, intervalMs: 2_000 },
  );
  const seconds = (performance.now() - started) / 1000;
  const metrics = await daemon.metrics();
  progress(`large repository: converged in ${seconds.toFixed(0)} s`);
  return {
    repo,
    daemon,
    revision,
    leaves,
    hubs,
    values,
    upstreamOf,
    warmup: { seconds, processes: metrics.processes, units: total, rssMiB: metrics.memory.rssBytes / 2 ** 20 },
  };
}

/** Stop the shared daemon when neither measurement needs it any more. */
export async function releaseLargeRepo(ctx: BenchContext): Promise<string | undefined> {
  if (!shared) return undefined;
  const large = await shared.catch(() => undefined);
  shared = undefined;
  if (!large) return undefined;
  return ctx.stopDaemon(large.daemon);
}

/**
 * Terraform state of a leaf and of a dependant stack at value v0, made by the
 * real terraform (init + apply in a scratch folder). Every stack of the large
 * repository starts from a copy with its own lineage, as if its
 * infrastructure already existed: the first reconcile then plans every stack
 * and finds nothing to change (and records its outputs for its dependants),
 * instead of applying 1,000 stacks first.
 */
async function stateTemplates(ctx: BenchContext): Promise<{ leaf: string; dependant: string }> {
  const env = cleanEnv({ TF_CLI_CONFIG_FILE: ctx.terraformRc, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' });
  const make = async (label: string, upstream: boolean): Promise<string> => {
    const dir = ctx.dir(label);
    writeFileSync(join(dir, 'main.tf'), stackFiles('seed', { value: 'v0', ...(upstream ? { upstream: 'hub' } : {}) })['stacks/seed/main.tf']!);
    await timed('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env });
    await timed('terraform', ['apply', '-input=false', '-no-color', '-auto-approve', '-var=value=v0', ...(upstream ? ['-var=upstream=v0'] : [])], { cwd: dir, env });
    return readFileSync(join(dir, 'terraform.tfstate'), 'utf8');
  };
  return { leaf: await make('seed-leaf', false), dependant: await make('seed-dep', true) };
}
