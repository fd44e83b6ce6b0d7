import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.ts';
import { progress } from '../lib/context.ts';
import type { BenchDaemon } from '../lib/daemon.ts';
import { configPlay, hostsYaml, inventoryFiles, inventoryManifest, seedConverged, stackFiles } from '../lib/fixtures.ts';
import { cleanEnv, timed } from '../lib/hand.ts';
import { commandsOf, logSize, readLogSince, type LogEntry } from '../lib/logs.ts';
import { BenchRepo } from '../lib/repo.ts';
import { figure, type ScenarioResult } from '../lib/report.ts';
import { median, sum } from '../lib/stats.ts';
import { adaptiveInterval, sleep } from '../lib/wait.ts';

const STACK = 'ovh-stack';
const INVENTORY = 'ovh-fleet';

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
  return out;
}

/** Sync, then wait for the unit to be applied at `revision`; wall time in ms. */
async function throughPlumbline(daemon: BenchDaemon, unit: string, revision: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  await daemon.sync();
  await daemon.waitSettled(revision, [unit], { what: `${unit} applied at ${revision.slice(0, 8)}`, timeoutMs, intervalMs: adaptiveInterval });
  return performance.now() - t0;
}

/**
 * Overhead: one stack, and one inventory of `overheadHosts` hosts, planned and
 * applied through Plumbline (commit, sync, wait until applied) and by hand
 * (terraform init + plan -out + apply; ansible-playbook --check --diff, then
 * ansible-playbook, default settings), alternating which goes first.
 */
export async function overhead(ctx: BenchContext): Promise<ScenarioResult> {
  const pool = await ctx.hosts();
  const fleet = pool.hosts.slice(0, ctx.scale.overheadHosts);
  const resources = ctx.scale.overheadResources;
  seedConverged(fleet, INVENTORY, 'v0');
  const repo = new BenchRepo(ctx.dir('ovh-repo'));
  const first = repo.commit(
    {
      ...stackFiles(STACK, { value: 'v0', resources }),
      ...inventoryFiles(INVENTORY, { hosts: fleet, knownHosts: pool.knownHosts(), play: configPlay(INVENTORY) }),
    },
    'overhead',
  );
  const daemon = await ctx.daemon({ dir: ctx.dir('ovh'), label: 'overhead', sourceUrl: repo.url, concurrency: 4, privateKeyFile: pool.ssh.privateKeyFile });

  // By hand: the same configuration in plain folders.
  const handTf = ctx.dir('ovh-hand-tf');
  writeFileSync(join(handTf, 'main.tf'), stackFiles('hand', { value: 'v0', resources })['stacks/hand/main.tf']!);
  const tfEnv = cleanEnv({ TF_CLI_CONFIG_FILE: ctx.terraformRc, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' });
  const handTerraform = async (value: string) =>
    (await timed('terraform', ['init', '-input=false', '-no-color'], { cwd: handTf, env: tfEnv })) +
    (await timed('terraform', ['plan', '-input=false', '-no-color', '-out=tfplan', `-var=value=${value}`], { cwd: handTf, env: tfEnv })) +
    (await timed('terraform', ['apply', '-input=false', '-no-color', 'tfplan'], { cwd: handTf, env: tfEnv }));

  const handAnsible = ctx.dir('ovh-hand-an');
  writeFileSync(
    join(handAnsible, 'hosts.yml'),
    hostsYaml(fleet, {
      ansible_ssh_private_key_file: pool.ssh.privateKeyFile,
      ansible_ssh_common_args: `-o UserKnownHostsFile=${pool.ssh.knownHostsFile}`,
    }),
  );
  writeFileSync(join(handAnsible, 'site.yml'), configPlay(INVENTORY));
  // Default settings; only where Ansible keeps its local files moves under the run's folder.
  const anEnv = cleanEnv({ ANSIBLE_CONTROL_PATH_DIR: ctx.dir('hcp'), ANSIBLE_LOCAL_TEMP: ctx.dir('htmp') });
  const handPlaybook = async (value: string) =>
    (await timed('ansible-playbook', ['-i', 'hosts.yml', 'site.yml', '--check', '--diff', '-e', `value=${value}`], { cwd: handAnsible, env: anEnv })) +
    (await timed('ansible-playbook', ['-i', 'hosts.yml', 'site.yml', '-e', `value=${value}`], { cwd: handAnsible, env: anEnv }));

  progress(`overhead: first converge of ${STACK} and ${INVENTORY} (${fleet.length} hosts)...`);
  await daemon.sync();
  await daemon.waitSettled(first, [STACK, INVENTORY], { what: 'the first converge', timeoutMs: 10 * 60_000 });
  await handTerraform('v0');
  // A first hand run, so both sides start from converged hosts with warm caches (not in the smoke run).
  if (!ctx.smoke) await handPlaybook('v0');

  const tfRatio: number[] = [];
  const tfPlumbline: number[] = [];
  const tfHand: number[] = [];
  const anRatio: number[] = [];
  const anPlumbline: number[] = [];
  const anHand: number[] = [];
  const tfBreakdowns: Record<string, number>[] = [];
  const anBreakdowns: Record<string, number>[] = [];
  for (let rep = 0; rep < ctx.reps; rep += 1) {
    const revision = repo.commit(stackFiles(STACK, { value: `p${rep}`, resources }), `stack p${rep}`);
    const offset = logSize(daemon.logFile);
    let p = 0;
    let h = 0;
    if (rep % 2 === 0) {
      p = await throughPlumbline(daemon, STACK, revision, 120_000);
      h = await handTerraform(`h${rep}`);
    } else {
      h = await handTerraform(`h${rep}`);
      p = await throughPlumbline(daemon, STACK, revision, 120_000);
    }
    await sleep(200);
    const b = breakdown(readLogSince(daemon.logFile, offset), STACK, revision);
    b.totalMs = Math.round(p);
    b.engineMs = Math.round(p - (b.toolsMs ?? 0));
    tfBreakdowns.push(b);
    tfPlumbline.push(p);
    tfHand.push(h);
    tfRatio.push(p / h);
    progress(`overhead terraform ${rep + 1}/${ctx.reps}: plumbline ${p.toFixed(0)} ms, by hand ${h.toFixed(0)} ms, ratio ${(p / h).toFixed(2)}`);
  }
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
    anHand.push(h);
    anRatio.push(p / h);
    progress(`overhead ansible ${rep + 1}/${ctx.heavyReps}: plumbline ${p.toFixed(0)} ms, by hand ${h.toFixed(0)} ms, ratio ${(p / h).toFixed(2)}`);
  }
  const profile = await ctx.stopDaemon(daemon);
  const medianOf = (list: Record<string, number>[]) => {
    const keys = new Set(list.flatMap((b) => Object.keys(b)));
    return Object.fromEntries([...keys].sort().map((k) => [k, median(list.map((b) => b[k] ?? 0))]));
  };
  return {
    id: 'overhead',
    title: 'Overhead',
    figures: [
      figure('overhead.terraform.ratio', `stack (${resources} resources): Plumbline / by hand`, 'ratio', tfRatio, { text: '<= 1.10', test: (v) => v <= 1.1 }),
      figure('overhead.terraform.plumbline', '  through Plumbline (sync -> applied)', 'ms', tfPlumbline),
      figure('overhead.terraform.hand', '  by hand (init, plan -out, apply)', 'ms', tfHand),
      figure('overhead.ansible.ratio', `inventory (${fleet.length} hosts): Plumbline / by hand`, 'ratio', anRatio, { text: '<= 1.00', test: (v) => v <= 1.0 }),
      figure('overhead.ansible.plumbline', '  through Plumbline (sync -> converged)', 'ms', anPlumbline),
      figure('overhead.ansible.hand', '  by hand (--check --diff, then run)', 'ms', anHand),
    ],
    details: { terraformBreakdownMedians: medianOf(tfBreakdowns), ansibleBreakdownMedians: medianOf(anBreakdowns), terraformBreakdowns: tfBreakdowns, ansibleBreakdowns: anBreakdowns, ...(profile ? { profile } : {}) },
    notes: [
      'Plumbline: from POST /api/v1/sync (the commit is already pushed) until the unit is InSync at the commit (status polled every 20 ms for 3 s, then every 100 ms).',
      'Terraform by hand: terraform init, plan -out, apply of the saved plan, CHECKPOINT_DISABLE=1, same provider mirror.',
      `Ansible by hand: ansible-playbook --check --diff, then ansible-playbook, default settings (forks 5, no pipelining, the default ControlPersist=60s); ControlPath and local temp folders moved under the run's folder.`,
      'Plumbline runs in addition: terraform show -json and output -json; for Ansible an SSH preflight and ansible-inventory --list before the check and again before the apply, and a second check after the apply (the convergence proof).',
    ],
  };
}
