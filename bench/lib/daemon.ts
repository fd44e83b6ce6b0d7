import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsAnswer } from '../../engine/api/contract.ts';
import type { HistoryEvent, PlanRecord, SourceStatus, UnitStatus } from '../../engine/model.ts';
import { repoRoot } from '../../testkit/files.ts';
import { freePort } from '../../testkit/ports.ts';
import { FatalWait, waitFor } from '../../testkit/wait.ts';
import { onCleanup } from './cleanup.ts';
import type { AnsibleStrategy } from '../../providers/ansible/settings.ts';
import { processTree, signal } from './proc.ts';

let bin = join(repoRoot, 'bin', 'plumbline.mjs');

/** Run the daemons of another checkout of Plumbline (`--plumbline DIR`: before/after comparisons). */
export function useDaemonsOf(checkout: string): void {
  bin = join(checkout, 'bin', 'plumbline.mjs');
}

export interface BenchDaemonOptions {
  /** Folder for this daemon: config, log, state (kept short: ControlPath sockets live under it). */
  dir: string;
  sourceUrl: string;
  concurrency: number;
  /** Terraform CLI config (provider mirror). */
  terraformRc: string;
  /** SSH key for inventories, when the scenario has hosts. */
  privateKeyFile?: string;
  /** `ansible.strategy` (with `privateKeyFile`); absent: the default. */
  ansibleStrategy?: AnsibleStrategy;
  /** Options for node itself, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
  label: string;
  /** Called with the state folder before the daemon starts (to seed Terraform state). */
  seed?: (stateDir: string) => Promise<void> | void;
  /** source.previews.refs: branches planned before they are merged. */
  previews?: string[];
  /** More lines of plumbline.yaml (a shared store, a cluster name). */
  extraConfig?: string[];
}

/**
 * The real daemon as a child process in its own process group, logging at
 * debug level to a file (never through a pipe the benchmark would have to
 * drain), driven only through its HTTP API. Drift timers are off: drift
 * rounds are started explicitly.
 */
export class BenchDaemon {
  readonly stateDir: string;
  readonly configFile: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private tokenValue: string | undefined;
  private unregister: (() => Promise<void>) | undefined;

  private constructor(
    readonly options: BenchDaemonOptions,
    readonly port: number,
  ) {
    this.stateDir = join(options.dir, 's');
    this.configFile = join(options.dir, 'plumbline.yaml');
    this.logFile = join(options.dir, 'daemon.log');
  }

  static async start(options: BenchDaemonOptions): Promise<BenchDaemon> {
    mkdirSync(options.dir, { recursive: true });
    const daemon = new BenchDaemon(options, await freePort());
    await options.seed?.(daemon.stateDir);
    writeFileSync(
      daemon.configFile,
      [
        'source:',
        `  url: ${options.sourceUrl}`,
        '  branch: main',
        '  interval: 24h', // polls come only from explicit syncs
        ...(options.previews ? ['  previews:', `    refs: [${options.previews.map((r) => JSON.stringify(r)).join(', ')}]`, '    concurrency: 2'] : []),
        `stateDir: ${daemon.stateDir}`,
        'api:',
        `  listen: 127.0.0.1:${daemon.port}`,
        `concurrency: ${options.concurrency}`,
        'terraform:',
        `  cliConfigFile: ${options.terraformRc}`,
        ...(options.privateKeyFile ? ['ansible:', `  privateKeyFile: ${options.privateKeyFile}`, ...(options.ansibleStrategy ? [`  strategy: ${options.ansibleStrategy}`] : [])] : []),
        'defaults:',
        '  approval: auto',
        '  drift:',
        '    interval: off',
        'log:',
        '  level: debug',
        ...(options.extraConfig ?? []),
        '',
      ].join('\n'),
    );
    await daemon.launch();
    return daemon;
  }

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error(`daemon ${this.options.label} is not running`);
    return pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), bin, 'daemon', '--config', this.configFile], {
      cwd: this.options.dir,
      env: process.env,
      stdio: ['ignore', fd, fd],
      detached: true, // its own process group: terraform and ansible children end with it
    });
    closeSync(fd);
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    this.unregister = onCleanup(`daemon ${this.options.label}`, () => this.stopNow());
    let gone = false;
    void this.exited.then(() => (gone = true));
    await waitFor(
      async () => {
        if (gone) throw new Error(`daemon ${this.options.label} exited at start:\n${this.logTail()}`);
        this.tokenValue ??= readFileSync(join(this.stateDir, 'api-token'), 'utf8').trim();
        const res = await fetch(`${this.url}/api/v1/healthz`, { headers: { authorization: `Bearer ${this.tokenValue}` } });
        return res.ok;
      },
      { what: `daemon ${this.options.label} API`, timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  logTail(chars = 3000): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  }

  async api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${this.tokenValue}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  status(): Promise<{ source: SourceStatus; units: UnitStatus[] }> {
    return this.api('/api/v1/status');
  }

  async units(): Promise<UnitStatus[]> {
    return (await this.status()).units;
  }

  plans(unit?: string): Promise<PlanRecord[]> {
    return this.api(`/api/v1/plans${unit ? `?unit=${encodeURIComponent(unit)}` : ''}`);
  }

  history(options: { unit?: string; limit?: number } = {}): Promise<HistoryEvent[]> {
    const q = new URLSearchParams({ limit: String(options.limit ?? 1000) });
    if (options.unit) q.set('unit', options.unit);
    return this.api(`/api/v1/history?${q}`);
  }

  metrics(): Promise<MetricsAnswer> {
    return this.api('/api/v1/metrics');
  }

  sync(unit?: string): Promise<{ revision: string | null; scheduled: string[] }> {
    return this.api('/api/v1/sync', { method: 'POST', body: unit ? { unit } : {} });
  }

  drift(): Promise<{ scheduled: string[]; skipped: Array<{ unit: string; why: string }> }> {
    return this.api('/api/v1/drift', { method: 'POST', body: {} });
  }

  /** Wait until every unit named is InSync with `lastAppliedRevision` = revision; throws on a failed unit. */
  async waitSettled(revision: string, names: readonly string[] | undefined, options: { timeoutMs: number; intervalMs?: number | ((elapsedMs: number) => number); what: string }): Promise<UnitStatus[]> {
    return waitFor(
      async () => {
        const units = await this.units();
        const wanted = names ? units.filter((u) => names.includes(u.name)) : units;
        if (names && wanted.length < names.length) return undefined;
        const failed = wanted.find((u) => u.phase === 'Failed' || u.phase === 'Stalled' || u.phase === 'Blocked');
        if (failed) throw new FatalWait(`${failed.name} is ${failed.phase} (${failed.reason}): ${failed.message}`);
        return wanted.every((u) => u.phase === 'InSync' && u.lastAppliedRevision === revision) ? units : undefined;
      },
      { ...options, intervalMs: options.intervalMs ?? 250 },
    );
  }

  /** SIGTERM, wait for a clean exit (a CPU profile is written then), SIGKILL the group after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    const unregister = this.unregister;
    this.unregister = undefined;
    await this.stopNow(graceMs);
    if (unregister) await unregister(); // already stopped: forgets the action
  }

  private async stopNow(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    const pid = child.pid;
    if (child.exitCode === null && child.signalCode === null) {
      signal(pid, 'SIGTERM');
      const timer = new Promise((r) => setTimeout(r, graceMs).unref());
      await Promise.race([this.exited, timer]);
    }
    // Whatever is left in its process group (a terraform cut off, say).
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // group already gone
    }
    for (const p of processTree(pid)) signal(p, 'SIGKILL');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.child = undefined;
  }
}
