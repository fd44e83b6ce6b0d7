import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BenchDaemon, type BenchDaemonOptions } from './daemon.ts';
import { HostPool } from './hosts.ts';
import { summarizeProfiles } from './profile.ts';
import type { AnsibleStrategy } from '../../providers/ansible/settings.ts';

export interface Scale {
  /** Idle and precision: stacks and inventories of the large repository. */
  stacks: number;
  inventories: number;
  /** Every `hubEvery`-th stack has two dependants (fed by its output). */
  hubEvery: number;
  /** SSH hosts started for the whole run. */
  hosts: number;
  /** Overhead: hosts of the inventory compared with ansible-playbook. */
  overheadHosts: number;
  /** Overhead: terraform_data resources of the stack compared with terraform by hand. */
  overheadResources: number;
  /** Parallelism: independent stacks. */
  parallelStacks: number;
  /** Also measure parallelism with stacks whose apply waits 1 s (an API's latency). */
  parallelSlow: boolean;
  /** No-op converge: hosts of the large inventory (compared with one host). */
  convergeHosts: number;
  /** Drift: stacks and hosts. */
  driftStacks: number;
  driftHosts: number;
  /** Idle: polls per repetition. */
  pollsPerRep: number;
  /** Cluster: stacks of the first reconcile, each apply waiting 1 s. */
  clusterStacks: number;
}

export const FULL: Scale = {
  stacks: 1000,
  inventories: 50,
  hubEvery: 100,
  hosts: 20,
  overheadHosts: 10,
  overheadResources: 10,
  parallelStacks: 8,
  parallelSlow: true,
  convergeHosts: 20,
  driftStacks: 100,
  driftHosts: 20,
  pollsPerRep: 20,
  clusterStacks: 300,
};

export const SMOKE: Scale = {
  stacks: 20,
  inventories: 2,
  hubEvery: 10,
  hosts: 2,
  overheadHosts: 2,
  overheadResources: 10,
  parallelStacks: 8,
  parallelSlow: false,
  convergeHosts: 2,
  driftStacks: 20,
  driftHosts: 2,
  pollsPerRep: 5,
  clusterStacks: 12,
};

export class BenchContext {
  private hostPool: Promise<HostPool> | undefined;
  private readonly daemons: BenchDaemon[] = [];

  constructor(
    readonly root: string,
    readonly scale: Scale,
    readonly reps: number,
    /** Repetitions of the Ansible measurements, where one repetition takes a minute or more. */
    readonly heavyReps: number,
    readonly smoke: boolean,
    readonly terraformRc: string,
    readonly profileDir: string | undefined,
    /** `ansible.strategy` of every daemon (`--ansible-strategy`). */
    readonly ansibleStrategy: AnsibleStrategy = 'linear',
  ) {}

  /** A folder of the run (under the temporary root). */
  dir(name: string): string {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  hosts(): Promise<HostPool> {
    this.hostPool ??= HostPool.start(join(this.root, 'h'), this.scale.hosts);
    return this.hostPool;
  }

  async daemon(options: Omit<BenchDaemonOptions, 'terraformRc' | 'nodeArgs' | 'ansibleStrategy'>): Promise<BenchDaemon> {
    const nodeArgs: string[] = [];
    if (this.profileDir) {
      const dir = join(this.profileDir, options.label);
      mkdirSync(dir, { recursive: true });
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    }
    const daemon = await BenchDaemon.start({ ...options, terraformRc: this.terraformRc, nodeArgs, ansibleStrategy: this.ansibleStrategy });
    this.daemons.push(daemon);
    return daemon;
  }

  /** Stop a daemon cleanly (its CPU profile is written on exit) and summarize the profile. */
  async stopDaemon(daemon: BenchDaemon): Promise<string | undefined> {
    await daemon.stop();
    if (!this.profileDir) return undefined;
    return summarizeProfiles(join(this.profileDir, daemon.options.label));
  }
}

export function progress(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[${t}] ${message}\n`);
}
