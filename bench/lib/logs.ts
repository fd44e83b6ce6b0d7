import { openSync, readSync, closeSync, statSync } from 'node:fs';

/**
 * The daemon's debug log (JSON lines): `step finished` {step, ms} per run step,
 * `executing command` {command, args} and `command finished` {command,
 * durationMs} per process, `api request` {route, ms}, all with the run's
 * `unit`, `revision`, `run` (and `planId` once a plan is recorded and during
 * its apply). The benchmark reads it to say where the time went.
 */
export interface LogEntry {
  time: number;
  level: number;
  msg: string;
  unit?: string;
  revision?: string;
  run?: string;
  planId?: string;
  step?: string;
  ms?: number;
  command?: string;
  args?: string[];
  durationMs?: number;
  route?: string;
  [key: string]: unknown;
}

export function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Entries appended since byte `from`. */
export function readLogSince(file: string, from = 0): LogEntry[] {
  const size = logSize(file);
  if (size <= from) return [];
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(size - from);
    readSync(fd, buffer, 0, buffer.length, from);
    const out: LogEntry[] = [];
    for (const line of buffer.toString('utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogEntry);
      } catch {
        // a line cut at the end of the read
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The processes of some runs, in order, each with its subcommand (`terraform plan`). */
export interface CommandTiming {
  tool: string;
  sub: string;
  durationMs: number;
  end: number;
}

export function commandsOf(entries: readonly LogEntry[], select: (e: LogEntry) => boolean): CommandTiming[] {
  const pendingByRun = new Map<string, string[]>();
  const out: CommandTiming[] = [];
  for (const e of entries) {
    if (!select(e)) continue;
    const key = `${e.run ?? ''}|${e.command ?? ''}`;
    if (e.msg === 'executing command') {
      const list = pendingByRun.get(key) ?? [];
      const args = e.args ?? [];
      // terraform <sub>; ansible-playbook: check or apply
      const sub = e.command === 'terraform' ? (args[0] ?? '') : e.command === 'ansible-playbook' ? (args.includes('--check') ? 'check' : 'run') : (args[0] ?? '');
      list.push(sub);
      pendingByRun.set(key, list);
    } else if (e.msg === 'command finished' && typeof e.durationMs === 'number') {
      const sub = pendingByRun.get(key)?.shift() ?? '';
      out.push({ tool: String(e.command), sub, durationMs: e.durationMs, end: e.time });
    }
  }
  return out;
}

export function stepsOf(entries: readonly LogEntry[], select: (e: LogEntry) => boolean): Array<{ step: string; ms: number; end: number }> {
  return entries.filter((e) => e.msg === 'step finished' && select(e)).map((e) => ({ step: String(e.step), ms: Number(e.ms ?? 0), end: e.time }));
}

/** Tools whose time is "the tool's own time" (everything else the engine does is the engine's). */
export const TOOL_COMMANDS = new Set(['terraform', 'ansible-playbook', 'ansible-inventory', 'ansible-vault']);

/**
 * Per plan run: how long it waited for the daemon-wide `terraform init` lock
 * (from the `terraform state placement` line, logged just before the lock is
 * taken, to the `executing command` line of its init), and the init's duration.
 */
export function initLockWaits(entries: readonly LogEntry[]): Array<{ run: string; waitMs: number; initMs: number }> {
  const placed = new Map<string, number>();
  const started = new Map<string, number>();
  const out: Array<{ run: string; waitMs: number; initMs: number }> = [];
  for (const e of entries) {
    if (!e.run) continue;
    if (e.msg === 'terraform state placement') placed.set(e.run, e.time);
    else if (e.msg === 'executing command' && e.command === 'terraform' && e.args?.[0] === 'init' && placed.has(e.run)) started.set(e.run, e.time);
    else if (e.msg === 'command finished' && e.command === 'terraform' && started.has(e.run)) {
      out.push({ run: e.run, waitMs: started.get(e.run)! - placed.get(e.run)!, initMs: Number(e.durationMs ?? 0) });
      placed.delete(e.run);
      started.delete(e.run);
    }
  }
  return out;
}
