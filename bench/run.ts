/**
 * `npm run bench`: what Plumbline costs on this machine and how fast a commit
 * reaches the infrastructure. Synthetic repositories (terraform_data stacks,
 * Ansible inventories on throwaway sshd hosts at 127.0.0.100+), the real
 * daemon, terraform and ansible. See BENCHMARKS.md for the method.
 *
 *   npm run bench                       # everything, 5 repetitions
 *   npm run bench -- --smoke            # 20 stacks, 2 hosts, 1 repetition
 *   npm run bench -- --only idle,precision --reps 3 --json out.json
 *   npm run bench -- --profile ./profiles   # CPU profiles of the daemons
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanupAll, installSignalHandlers, onCleanup } from './lib/cleanup.ts';
import { BenchContext, FULL, progress, SMOKE } from './lib/context.ts';
import { writeTerraformRc } from '../testkit/terraform.ts';
import { useDaemonsOf } from './lib/daemon.ts';
import { machineInfo, missingPrerequisites } from './lib/machine.ts';
import { endProcessesMentioning } from './lib/proc.ts';
import { renderTable, type ScenarioResult } from './lib/report.ts';
import { cluster } from './scenarios/cluster.ts';
import { converge } from './scenarios/converge.ts';
import { drift } from './scenarios/drift.ts';
import { idle } from './scenarios/idle.ts';
import { releaseLargeRepo } from './scenarios/large-repo.ts';
import { overhead, overheadTerraform } from './scenarios/overhead.ts';
import { parallelism } from './scenarios/parallelism.ts';
import { precision } from './scenarios/precision.ts';
import { previews } from './scenarios/previews.ts';
import { cli, start } from './scenarios/start.ts';
import { store } from './scenarios/store.ts';
import { ui } from './scenarios/ui.ts';
import { ANSIBLE_STRATEGIES, type AnsibleStrategy } from '../providers/ansible/settings.ts';

const SCENARIOS = {
  idle,
  precision,
  previews,
  overhead,
  'overhead-tf': overheadTerraform,
  parallelism,
  converge,
  drift,
  store,
  ui,
  cli,
  start,
  cluster,
} as const;
type ScenarioId = keyof typeof SCENARIOS;
const ORDER = Object.keys(SCENARIOS) as ScenarioId[];
const NEEDS_HOSTS: ScenarioId[] = ['idle', 'precision', 'previews', 'overhead', 'converge', 'drift'];

interface Options {
  only: ScenarioId[];
  reps: number | undefined;
  json: string | undefined;
  smoke: boolean;
  profile: string | undefined;
  keep: boolean;
  ansibleStrategy: AnsibleStrategy;
  plumbline: string | undefined;
}

const USAGE = `usage: npm run bench -- [--smoke] [--only ${ORDER.join(',')}] [--reps N] [--json FILE] [--profile DIR] [--keep] [--ansible-strategy auto|linear|mitogen] [--plumbline DIR]

  --smoke        small and quick: 20 stacks, 2 hosts, 1 repetition (about a minute or two)
  --only LIST    scenarios to run, comma-separated (default: all, in the order above;
                 overhead-tf is the Terraform rows of overhead alone, without hosts)
  --reps N       repetitions of every measurement (default 5, and 3 for the Ansible
                 overhead and no-op converge; 1 with --smoke)
  --json FILE    also write every figure, sample and breakdown as JSON
  --profile DIR  run the daemons under node --cpu-prof; profiles and their summaries go to DIR
  --keep         keep the temporary folder (repositories, daemon logs and state) for inspection
  --ansible-strategy NAME
                 ansible.strategy of the daemons (default auto, Plumbline's own default: mitogen
                 when it is installed, else linear; mitogen needs ansible-mitogen);
                 what Plumbline is compared with stays ansible-playbook with its defaults
  --plumbline DIR
                 run the daemons of another built checkout of Plumbline (DIR/bin/plumbline.mjs),
                 e.g. the commit before a change, with this benchmark's scenarios`;

function parseArgs(argv: string[]): Options {
  const options: Options = { only: [...ORDER], reps: undefined, json: undefined, smoke: false, profile: undefined, keep: false, ansibleStrategy: 'auto', plumbline: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const value = () => {
      const v = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    const name = arg.split('=')[0];
    switch (name) {
      case '--smoke':
        options.smoke = true;
        break;
      case '--keep':
        options.keep = true;
        break;
      case '--only': {
        const list = value().split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = list.filter((s) => !ORDER.includes(s as ScenarioId));
        if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; choose from ${ORDER.join(', ')}`);
        options.only = ORDER.filter((s) => list.includes(s));
        break;
      }
      case '--reps': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error('--reps must be an integer from 1 to 100');
        options.reps = n;
        break;
      }
      case '--json':
        options.json = resolve(value());
        break;
      case '--profile':
        options.profile = resolve(value());
        break;
      case '--ansible-strategy': {
        const strategy = value();
        if (!ANSIBLE_STRATEGIES.includes(strategy as AnsibleStrategy)) throw new Error(`--ansible-strategy must be one of ${ANSIBLE_STRATEGIES.join(', ')}`);
        options.ansibleStrategy = strategy as AnsibleStrategy;
        break;
      }
      case '--plumbline': {
        const dir = resolve(value());
        if (!existsSync(join(dir, 'bin', 'plumbline.mjs'))) throw new Error(`--plumbline: no bin/plumbline.mjs in ${dir}`);
        options.plumbline = dir;
        break;
      }
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return options;
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 2;
  }
  const missing = missingPrerequisites(options.only.some((s) => NEEDS_HOSTS.includes(s)));
  if (missing.length > 0) {
    process.stderr.write(`error: missing prerequisites: ${missing.join(', ')}\n`);
    return 2;
  }
  installSignalHandlers();
  const started = new Date();
  if (options.plumbline) useDaemonsOf(options.plumbline);
  const machine = machineInfo(options.plumbline);
  const scale = options.smoke ? SMOKE : FULL;
  const reps = options.reps ?? (options.smoke ? 1 : 5);
  const heavyReps = options.reps ?? (options.smoke ? 1 : 3);

  // Short: ControlPersist sockets live under each daemon's state folder.
  const root = mkdtempSync(join(tmpdir(), 'plb-'));
  onCleanup('temporary folder', () => {
    if (options.keep) process.stderr.write(`kept ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  });
  onCleanup('leftover processes', async () => {
    const ended = await endProcessesMentioning(root);
    if (ended.length > 0) progress(`ended ${ended.length} leftover process(es) (SSH ControlPersist masters)`);
  });

  progress(
    `Plumbline benchmark${options.smoke ? ' (smoke)' : ''}: ${options.only.join(', ')}; ${reps} repetition(s) (${heavyReps} for Ansible runs); ansible.strategy ${options.ansibleStrategy}; ` +
      `Plumbline ${machine.plumbline}${options.plumbline ? ` (daemons of ${options.plumbline})` : ''}; ${machine.cores} cores, ${machine.memoryGiB} GiB, load ${machine.loadAverage.join(' ')}; working folder ${root}`,
  );
  const ctx = new BenchContext(root, scale, reps, heavyReps, options.smoke, writeTerraformRc(root), options.profile, options.ansibleStrategy);
  const results: ScenarioResult[] = [];
  try {
    for (const id of options.only) {
      progress(`== ${id}`);
      const t0 = performance.now();
      let result: ScenarioResult;
      try {
        result = await SCENARIOS[id](ctx);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        progress(`${id} failed: ${message}`);
        result = { id, title: id, figures: [], details: {}, notes: [], error: message };
      }
      result.wallSeconds = Math.round((performance.now() - t0) / 1000);
      results.push(result);
      const usesLarge = (s: ScenarioId) => s === 'idle' || s === 'precision' || s === 'previews';
      const laterNeedsLarge = options.only.slice(options.only.indexOf(id) + 1).some(usesLarge);
      if (usesLarge(id) && !laterNeedsLarge) {
        const profile = await releaseLargeRepo(ctx);
        if (profile) result.details.profile = profile;
      }
    }
  } finally {
    await cleanupAll();
  }

  const finished = new Date();
  const endLoad = machineInfo(options.plumbline).loadAverage;
  process.stdout.write(`\nPlumbline benchmark${options.smoke ? ' (smoke)' : ''}, ${started.toISOString()}, ${Math.round((finished.getTime() - started.getTime()) / 1000)} s\n`);
  process.stdout.write(
    `Plumbline ${machine.plumbline}; ${machine.cores} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}; node ${machine.node}, terraform ${machine.terraform}, ` +
      `ansible-core ${machine.ansibleCore}, git ${machine.git}, ${machine.openssh}; load average ${machine.loadAverage.join(' ')} at start, ${endLoad.join(' ')} at end\n\n`,
  );
  process.stdout.write(`${renderTable(results)}\n`);
  for (const r of results) {
    const lines: string[] = [];
    for (const [key, value] of Object.entries(r.details)) {
      if (key.endsWith('Medians') || key === 'firstReconcile' || key === 'warmupSeconds') lines.push(`  ${key}: ${JSON.stringify(value)}`);
      if (key.toLowerCase().includes('profile') && typeof value === 'string') lines.push(value);
    }
    if (r.details.unexpected && (r.details.unexpected as string[]).length > 0) lines.push(`  unexpected plans: ${(r.details.unexpected as string[]).join('; ')}`);
    if (lines.length > 0 || r.notes.length > 0) {
      process.stdout.write(`\n${r.title} (${r.wallSeconds ?? '?'} s)\n${r.notes.map((n) => `  - ${n}`).join('\n')}\n${lines.join('\n')}\n`);
    }
  }
  if (options.json) {
    writeFileSync(
      options.json,
      `${JSON.stringify({ startedAt: started.toISOString(), finishedAt: finished.toISOString(), smoke: options.smoke, reps, scale, machine: { ...machine, loadAverageAtEnd: endLoad }, results }, null, 2)}\n`,
    );
    process.stdout.write(`\nJSON written to ${options.json}\n`);
  }
  const failed = results.filter((r) => r.error);
  return failed.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
