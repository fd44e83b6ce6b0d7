import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Linux /proc readings: a daemon's memory, its process tree, leftovers to end. */

export interface MemoryReading {
  /** Resident set size now, bytes. */
  rssBytes: number;
  /** Peak resident set size since start or since the last `resetPeak`, bytes. */
  hwmBytes: number;
}

export function memoryOf(pid: number): MemoryReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Reset VmHWM to the current RSS (clear_refs "5"), so a peak can be taken over one phase. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function parentMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // ended while we looked
    }
  }
  return children;
}

/** The process and all its descendants. */
export function processTree(pid: number): number[] {
  const children = parentMap();
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    out.push(next);
    stack.push(...(children.get(next) ?? []));
  }
  return out;
}

/** Resident memory of a process and its descendants (terraform, ansible, ssh), bytes. */
export function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + (memoryOf(p)?.rssBytes ?? 0), 0);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * Processes whose command line names `marker` (the benchmark's own temporary
 * folder): SSH ControlPersist masters detach into their own session and
 * outlive the run that started them. Only processes this benchmark started
 * carry that path; they are ended by pid.
 */
export async function endProcessesMentioning(marker: string): Promise<number[]> {
  const own = new Set([process.pid, process.ppid]);
  const found = () =>
    readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number)
      .filter((pid) => !own.has(pid) && cmdline(pid).includes(marker));
  const pids = found();
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline && found().length > 0) await new Promise((r) => setTimeout(r, 50));
  for (const pid of found()) signal(pid, 'SIGKILL');
  return pids;
}

export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
