import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StatusAnswer } from '../engine/api/contract.ts';
import { silentLogger } from '../engine/log.ts';
import type { HistoryEvent, PlanRecord, UnitStatus } from '../engine/model.ts';
import { openStore } from '../engine/store/open.ts';
import type { StoredOutput } from '../engine/store/types.ts';
import { repoRoot } from './files.ts';
import { freePort } from './ports.ts';
import { writeTerraformRc } from './terraform.ts';
import { waitFor } from './wait.ts';

const bin = join(repoRoot, 'bin', 'plumbline.mjs');

export interface DaemonOptions {
  sourceUrl: string;
  /** Reuse a state dir (restart tests). */
  stateDir?: string;
  interval?: string;
  concurrency?: number;
  approval?: string;
  extraConfig?: string;
  /** More settings of the `source:` section (`verify:`), as YAML lines indented two spaces. */
  sourceConfig?: string;
  env?: Record<string, string>;
  /** Run the daemon in a process group of its own, as a shell runs a foreground job. */
  ownProcessGroup?: boolean;
}

/** The real daemon, as a child process, driven through its API and CLI. */
export class TestDaemon {
  readonly dir: string;
  readonly stateDir: string;
  readonly configFile: string;
  readonly port: number;
  private child: ChildProcess | undefined;
  private output = '';
  private exit: Promise<number | null> | undefined;

  private constructor(
    dir: string,
    stateDir: string,
    configFile: string,
    port: number,
    private readonly env: Record<string, string>,
    private readonly ownProcessGroup = false,
  ) {
    this.dir = dir;
    this.stateDir = stateDir;
    this.configFile = configFile;
    this.port = port;
  }

  static async start(options: DaemonOptions): Promise<TestDaemon> {
    const dir = mkdtempSync(join(tmpdir(), 'plumbline-daemon-'));
    const stateDir = options.stateDir ?? join(dir, 'state');
    const port = await freePort();
    const configFile = join(dir, 'plumbline.yaml');
    writeFileSync(
      configFile,
      [
        'source:',
        `  url: ${options.sourceUrl}`,
        '  branch: main',
        `  interval: ${options.interval ?? '1h'}`,
        ...(options.sourceConfig ? [options.sourceConfig] : []),
        `stateDir: ${stateDir}`,
        'api:',
        `  listen: 127.0.0.1:${port}`,
        `concurrency: ${options.concurrency ?? 4}`,
        'terraform:',
        `  cliConfigFile: ${writeTerraformRc(dir)}`,
        'defaults:',
        `  approval: ${options.approval ?? 'auto-unless-destroy'}`,
        'log:',
        '  level: debug',
        options.extraConfig ?? '',
      ].join('\n'),
    );
    const daemon = new TestDaemon(dir, stateDir, configFile, port, options.env ?? {}, options.ownProcessGroup);
    await daemon.launch();
    return daemon;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get token(): string {
    return readFileSync(join(this.stateDir, 'api-token'), 'utf8').trim();
  }

  /** Everything the daemon printed (JSON log lines). */
  get logs(): string {
    return this.output;
  }

  async launch(): Promise<void> {
    const child = spawn(process.execPath, [bin, 'daemon', '--config', this.configFile], {
      cwd: this.dir,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.ownProcessGroup,
    });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exit = new Promise((r) => child.on('exit', (code) => r(code)));
    let exited = false;
    void this.exit.then(() => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`daemon exited early:\n${this.output.slice(-3000)}`);
        const res = await fetch(`${this.url}/api/v1/healthz`, { headers: { authorization: `Bearer ${this.token}` } });
        return res.ok;
      },
      { what: 'the daemon API', timeoutMs: 30_000 },
    );
  }

  async api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T; text: string }> {
    // A fresh connection per request: the daemon under test may be restarted
    // between calls, and a reused socket to a stopped process fails obscurely.
    const res = await fetch(`${this.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', connection: 'close' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, text };
  }

  /** A unit's record as the store holds it on disk (with the daemon stopped, or read-only beside it). */
  storedUnit(name: string): UnitStatus | undefined {
    const db = new Database(join(this.stateDir, 'plumbline.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('select record from units where name = ?').get(name) as { record: string } | undefined;
      return row ? (JSON.parse(row.record) as UnitStatus) : undefined;
    } finally {
      db.close();
    }
  }

  /** A unit's outputs as the store holds them (sealed on disk, so opened through the store beside the daemon). */
  async storedOutputs(unit: string): Promise<Record<string, StoredOutput> | undefined> {
    const store = await openStore({ stateDir: this.stateDir }, silentLogger);
    try {
      return await store.getOutputs(unit);
    } finally {
      await store.close();
    }
  }

  async status(): Promise<StatusAnswer> {
    return (await this.api<StatusAnswer>('/api/v1/status')).body;
  }

  async units(): Promise<UnitStatus[]> {
    return (await this.api<{ units: UnitStatus[] }>('/api/v1/status')).body.units;
  }

  async unit(name: string): Promise<UnitStatus | undefined> {
    return (await this.units()).find((u) => u.name === name);
  }

  async plans(unit?: string): Promise<PlanRecord[]> {
    return (await this.api<PlanRecord[]>(`/api/v1/plans${unit ? `?unit=${encodeURIComponent(unit)}` : ''}`)).body;
  }

  /** Wait for the unit's plan of a revision (the first one made). */
  async planAt(unit: string, revision: string, timeoutMs = 240_000): Promise<PlanRecord> {
    return waitFor(async () => (await this.plans(unit)).find((p) => p.revision === revision), { what: `a plan of ${unit} at ${revision.slice(0, 8)}`, timeoutMs });
  }

  async history(unit?: string): Promise<HistoryEvent[]> {
    return (await this.api<HistoryEvent[]>(`/api/v1/history?limit=1000${unit ? `&unit=${encodeURIComponent(unit)}` : ''}`)).body;
  }

  async sync(allowRewrite = false): Promise<{ revision: string; scheduled: string[] }> {
    const res = await this.api<{ revision: string; scheduled: string[] }>('/api/v1/sync', { method: 'POST', body: { allowRewrite } });
    if (res.status !== 200) throw new Error(`sync failed: ${res.text}`);
    return res.body;
  }

  /** Wait until a unit reaches a phase (optionally at a given revision). */
  async waitForUnit(name: string, phase: string, options: { revision?: string; timeoutMs?: number } = {}): Promise<UnitStatus> {
    return waitFor(
      async () => {
        const unit = await this.unit(name);
        if (!unit) return undefined;
        if (unit.phase !== phase) return undefined;
        if (options.revision && unit.lastAttemptedRevision !== options.revision) return undefined;
        return unit;
      },
      { what: `unit ${name} to be ${phase}${options.revision ? ` at ${options.revision.slice(0, 8)}` : ''}`, timeoutMs: options.timeoutMs ?? 240_000 },
    );
  }

  /** Run the CLI against this daemon. */
  cli(args: string[]): { code: number; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [bin, ...args, '--config', this.configFile], {
      cwd: this.dir,
      encoding: 'utf8',
      env: { ...process.env, PLUMBLINE_SERVER: '', PLUMBLINE_TOKEN: '' },
    });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    return this.exit!;
  }

  /** A terminal's Ctrl-C: SIGINT to every process of the daemon's group; waits for the exit code. */
  async interruptGroup(): Promise<number | null> {
    if (!this.child?.pid || !this.ownProcessGroup) throw new Error('the daemon has no process group of its own');
    process.kill(-this.child.pid, 'SIGINT');
    return this.exit!;
  }

  /** A pause (SIGSTOP): the process stays, frozen, until resume(); its tools run on. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** A crash: SIGKILL, nothing gets to clean up. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }

  async dispose(): Promise<void> {
    await this.kill();
    // A tool the killed daemon started may still be finishing a write into its run folder.
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
