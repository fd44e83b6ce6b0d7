import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestRepo } from '../../testkit/git-repo.ts';
import { adaptiveInterval } from '../../testkit/wait.ts';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { configPlay, inventoryFiles, inventoryManifest, seedConverged, stackFiles, type StackOptions } from '../lib/fixtures.ts';
import { cleanEnv, handAnsible, timed } from '../lib/hand.ts';
import { commandsOf, logSize, readLogSince, type LogEntry } from '../lib/logs.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { median, sum } from '../lib/stats.ts';

const STACK = 'ovh-stack';
const SLOW_STACK = 'ovh-slow';
const INVENTORY = 'ovh-fleet';
/** Provider time of the slow stack's apply: every resource waits this long, in parallel. */
const SLOW_SECONDS = 3;

/** Where a Plumbline plan + apply spent its time, from the daemon's debug log. */
function breakdown(entries: readonly LogEntry[], unit: string, revision: string): Record<string, number> {
  const mine = (e: LogEntry) => e.unit === unit && e.revision === revision;
  const out: Record<string, number> = {};
  for (const c of commandsOf(entries, mine)) {
    const key = `${c.tool} ${c.sub}`.trim();
    out[key] = (out[key] ?? 0) + c.durationMs;
    out.toolsMs = (out.toolsMs ?? 0) + c.durationMs;
    out.processes = (out.processes ?? 0) + 1;
  }
  const preflight = entries.filter((e) => mine(e) && e.msg === 'ansible preflight finished').map((e) => Number(e.ms ?? 0));
  if (preflight.length > 0) out.preflightMs = sum(preflight);
  const proof = entries.filter((e) => mine(e) && e.msg === 'ansible convergence check finished').map((e) => Number(e.ms ?? 0));
  if (proof.length > 0) out.proofMs = sum(proof);
  return out;
}

/**
 * Sync, then wait for the unit to be applied at `revision`; wall time in ms,
 * until the daemon recorded the unit InSync (its `updatedAt`, same clock):
 * the status is polled (every 20 ms, every 100 ms after 3 s), and the time
 * to the poll that sees it would add up to one interval.
 */
async function throughPlumbline(daemon: BenchDaemon, unit: string, revision: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const wall0 = Date.now();
  await daemon.sync();
  const units = await daemon.waitSettled(revision, [unit], { what: `${unit} applied at ${revision.slice(0, 8)}`, timeoutMs, intervalMs: adaptiveInterval });
  const polled = performance.now() - t0;
  const recorded = Date.parse(units.find((u) => u.name === unit)?.updatedAt ?? '') - wall0;
  progress(`  ${unit}: InSync recorded at ${recorded.toFixed(0)} ms, seen by the status poll at ${polled.toFixed(0)} ms`);
  return Number.isFinite(recorded) && recorded > 0 && recorded <= polled ? recorded : polled;
}

/**
 * Overhead: one stack, and one inventory of `overheadHosts` hosts, planned and
 * applied through Plumbline (commit, sync, wait until applied) and by hand
 * (terraform init + plan -out + apply; ansible-playbook --check --diff, then
 * ansible-playbook, default settings), alternating which goes first.
 */
export function overhead(ctx: BenchContext): Promise<ScenarioResult> {
  return overheadOf(ctx, true);
}

/** The Terraform rows of the overhead scenario alone (no hosts, no inventory: minutes shorter). */
export function overheadTerraform(ctx: BenchContext): Promise<ScenarioResult> {
  return overheadOf(ctx, false);
}

async function overheadOf(ctx: BenchContext, withInventory: boolean): Promise<ScenarioResult> {
  const pool = withInventory ? await ctx.hosts() : undefined;
  const fleet = pool ? pool.hosts.slice(0, ctx.scale.overheadHosts) : [];
  const resources = ctx.scale.overheadResources;
  if (pool) seedConverged(fleet, INVENTORY, 'v0');
  const repo = new TestRepo(ctx.dir('ovh-repo'));
  const stacks: TerraformCase[] = [
    { name: STACK, options: { resources } },
    { name: SLOW_STACK, options: { resources, sleepSeconds: SLOW_SECONDS } },
  ];
  const first = repo.commit(
    {
      ...Object.assign({}, ...stacks.map((c) => stackFiles(c.name, { ...c.options, value: 'v0' }))),
      ...(pool ? inventoryFiles(INVENTORY, { hosts: fleet, knownHosts: pool.knownHosts(), play: configPlay(INVENTORY) }) : {}),
    },
    'overhead',
  );
  const daemon = await ctx.daemon({
    dir: ctx.dir('ovh'),
    label: withInventory ? 'overhead' : 'overhead-tf',
    sourceUrl: repo.url,
    concurrency: 4,
    ...(pool ? { privateKeyFile: pool.ssh.privateKeyFile } : {}),
  });
  const tfEnv = cleanEnv({ TF_CLI_CONFIG_FILE: ctx.terraformRc, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' });

  const units = [...stacks.map((c) => c.name), ...(pool ? [INVENTORY] : [])];
  progress(`overhead: first converge of ${units.join(', ')}${pool ? ` (${fleet.length} hosts)` : ''}...`);
  await daemon.sync();
  await daemon.waitSettled(first, units, { what: 'the first converge', timeoutMs: 10 * 60_000 });

  const tf = [];
  for (const c of stacks) tf.push(await measureStack(ctx, daemon, repo, c, tfEnv));
  const [fast, slow] = tf as [StackResult, StackResult];
  const terraformFigures = [
      figure('overhead.terraform.ratio', `stack (${resources} resources): Plumbline / by hand`, 'ratio', fast.ratio, { text: '<= 1.30', test: (v) => v <= 1.3 }),
      figure('overhead.terraform.plumbline', '  through Plumbline (sync -> applied)', 'ms', fast.plumbline),
      figure('overhead.terraform.hand', '  by hand (init, plan -out, apply)', 'ms', fast.hand),
      figure('overhead.terraform.added', '  added by Plumbline (the difference)', 'ms', fast.added),
      figure('overhead.terraform.slow.ratio', `stack (${resources} resources, ${SLOW_SECONDS} s provider time): Plumbline / by hand`, 'ratio', slow.ratio, {
        text: '<= 1.05',
        test: (v) => v <= 1.05,
      }),
      figure('overhead.terraform.slow.plumbline', '  through Plumbline (sync -> applied)', 'ms', slow.plumbline),
      figure('overhead.terraform.slow.hand', '  by hand (init, plan -out, apply)', 'ms', slow.hand),
      figure('overhead.terraform.slow.added', '  added by Plumbline (the difference)', 'ms', slow.added),
  ];
  if (!pool) {
    const profile = await ctx.stopDaemon(daemon);
    return {
      id: 'overhead-tf',
      title: 'Overhead (Terraform rows only)',
      figures: terraformFigures,
      details: {
        terraformBreakdownMedians: medianOf(fast.breakdowns),
        slowTerraformBreakdownMedians: medianOf(slow.breakdowns),
        terraformBreakdowns: fast.breakdowns,
        slowTerraformBreakdowns: slow.breakdowns,
        ...(profile ? { profile } : {}),
      },
      notes: TERRAFORM_NOTES,
    };
  }

  const hand = handAnsible((name) => ctx.dir(name), 'ovh-hand-an', { hosts: fleet, privateKeyFile: pool.ssh.privateKeyFile, knownHostsFile: pool.ssh.knownHostsFile, play: configPlay(INVENTORY) });
  const handPlaybook = async (value: string) =>
    (await timed('ansible-playbook', ['-i', 'hosts.yml', 'site.yml', '--check', '--diff', '-e', `value=${value}`], hand)) +
    (await timed('ansible-playbook', ['-i', 'hosts.yml', 'site.yml', '-e', `value=${value}`], hand));
  // A first hand run, so both sides start from converged hosts with warm caches (not in the smoke run).
  if (!ctx.smoke) await handPlaybook('v0');
  const anRatio: number[] = [];
  const anPlumbline: number[] = [];
  const anWithoutProof: number[] = [];
  const anHand: number[] = [];
  const anBreakdowns: Record<string, number>[] = [];
  for (let rep = 0; rep < ctx.heavyReps; rep += 1) {
    const revision = repo.commit(inventoryManifest(INVENTORY, `p${rep}`), `inventory p${rep}`);
    const offset = logSize(daemon.logFile);
    let p = 0;
    let h = 0;
    if (rep % 2 === 0) {
      p = await throughPlumbline(daemon, INVENTORY, revision, 10 * 60_000);
      h = await handPlaybook(`h${rep}`);
    } else {
      h = await handPlaybook(`h${rep}`);
      p = await throughPlumbline(daemon, INVENTORY, revision, 10 * 60_000);
    }
    await sleep(200);
    const b = breakdown(readLogSince(daemon.logFile, offset), INVENTORY, revision);
    b.totalMs = Math.round(p);
    b.engineMs = Math.round(p - (b.toolsMs ?? 0));
    anBreakdowns.push(b);
    anPlumbline.push(p);
    anWithoutProof.push(p - (b.proofMs ?? 0));
    anHand.push(h);
    anRatio.push(p / h);
    progress(`overhead ansible ${rep + 1}/${ctx.heavyReps}: plumbline ${p.toFixed(0)} ms, by hand ${h.toFixed(0)} ms, ratio ${(p / h).toFixed(2)}`);
  }
  const profile = await ctx.stopDaemon(daemon);
  return {
    id: 'overhead',
    title: 'Overhead',
    figures: [
      ...terraformFigures,
      figure('overhead.ansible.ratio', `inventory (${fleet.length} hosts): Plumbline / by hand`, 'ratio', anRatio, { text: '<= 0.70', test: (v) => v <= 0.7 }),
      figure('overhead.ansible.plumbline', '  through Plumbline (sync -> converged)', 'ms', anPlumbline),
      figure('overhead.ansible.withoutProof', '  of which plan and apply (without the convergence check)', 'ms', anWithoutProof),
      figure('overhead.ansible.hand', '  by hand (--check --diff, then run)', 'ms', anHand),
      figure('overhead.ansible.withoutProof.ratio', '  plan and apply only / by hand', 'ratio', anWithoutProof.map((p, i) => p / anHand[i]!)),
    ],
    details: {
      terraformBreakdownMedians: medianOf(fast.breakdowns),
      slowTerraformBreakdownMedians: medianOf(slow.breakdowns),
      ansibleBreakdownMedians: medianOf(anBreakdowns),
      terraformBreakdowns: fast.breakdowns,
      slowTerraformBreakdowns: slow.breakdowns,
      ansibleBreakdowns: anBreakdowns,
      ...(profile ? { profile } : {}),
    },
    notes: [
      ...TERRAFORM_NOTES,
      `Ansible by hand: ansible-playbook --check --diff, then ansible-playbook, default settings (forks 5, no pipelining, the default ControlPersist=60s); ControlPath and local temp folders moved under the run's folder. The daemon ran with ansible.strategy ${ctx.ansibleStrategy}.`,
      'Plumbline runs in addition, for Ansible ansible-inventory --list and an SSH preflight before the check, and after the apply a second check on the hosts it changed (the convergence proof the hand run does not make).',
    ],
  };
}

const TERRAFORM_NOTES = [
  'Plumbline: from POST /api/v1/sync (the commit is already pushed) until the daemon recorded the unit InSync at the commit (the unit\u2019s updatedAt; its status is polled every 20 ms for 3 s, then every 100 ms, and the figure does not include the wait for the next poll).',
  'Terraform by hand: terraform init, plan -out, apply of the saved plan, CHECKPOINT_DISABLE=1, same provider mirror.',
  `The slow stack stands for a cloud provider: each of its resources is replaced on every change and waits ${SLOW_SECONDS} s in a local-exec provisioner (in parallel, so its apply takes about ${SLOW_SECONDS} s).`,
  'Plumbline runs in addition for Terraform: terraform show -json (the reviewable plan).',
];

function medianOf(list: Record<string, number>[]): Record<string, number> {
  const keys = new Set(list.flatMap((b) => Object.keys(b)));
  return Object.fromEntries([...keys].sort().map((k) => [k, median(list.map((b) => b[k] ?? 0))]));
}

interface TerraformCase {
  name: string;
  options: Omit<StackOptions, 'value'>;
}

interface StackResult {
  ratio: number[];
  plumbline: number[];
  hand: number[];
  added: number[];
  breakdowns: Record<string, number>[];
}

/**
 * One stack through Plumbline (commit, sync, wait until applied) and the same
 * configuration by hand in a plain folder, alternating which goes first.
 */
async function measureStack(ctx: BenchContext, daemon: BenchDaemon, repo: TestRepo, c: TerraformCase, env: ReturnType<typeof cleanEnv>): Promise<StackResult> {
  const handDir = ctx.dir(`${c.name}-hand`);
  writeFileSync(join(handDir, 'main.tf'), stackFiles('hand', { ...c.options, value: 'v0' })['stacks/hand/main.tf']!);
  const hand = async (value: string) =>
    (await timed('terraform', ['init', '-input=false', '-no-color'], { cwd: handDir, env })) +
    (await timed('terraform', ['plan', '-input=false', '-no-color', '-out=tfplan', `-var=value=${value}`], { cwd: handDir, env })) +
    (await timed('terraform', ['apply', '-input=false', '-no-color', 'tfplan'], { cwd: handDir, env }));
  await hand('v0');

  const result: StackResult = { ratio: [], plumbline: [], hand: [], added: [], breakdowns: [] };
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const revision = repo.commit(stackFiles(c.name, { ...c.options, value: `p${rep}` }), `${c.name} p${rep}`);
    const offset = logSize(daemon.logFile);
    let p = 0;
    let h = 0;
    if (rep % 2 === 0) {
      p = await throughPlumbline(daemon, c.name, revision, 120_000);
      h = await hand(`h${rep}`);
    } else {
      h = await hand(`h${rep}`);
      p = await throughPlumbline(daemon, c.name, revision, 120_000);
    }
    await sleep(200);
    const b = breakdown(readLogSince(daemon.logFile, offset), c.name, revision);
    b.totalMs = Math.round(p);
    b.engineMs = Math.round(p - (b.toolsMs ?? 0));
    result.breakdowns.push(b);
    result.plumbline.push(p);
    result.hand.push(h);
    result.added.push(p - h);
    result.ratio.push(p / h);
    progress(`overhead ${c.name} ${rep + 1}/${ctx.reps}: plumbline ${p.toFixed(0)} ms, by hand ${h.toFixed(0)} ms, ratio ${(p / h).toFixed(2)}`);
  }
  return result;
}
