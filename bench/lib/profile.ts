import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../testkit/files.ts';

/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`, written by a daemon when it
 * exits): where the daemon's own CPU time went, by function (self time), by
 * package or source file, and inclusive time of Plumbline's functions.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function place(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return '';
  const rel = url.startsWith(repoRoot) ? url.slice(repoRoot.length + 1) : url;
  return `${rel}:${frame.lineNumber + 1}`;
}

function area(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  if (url.startsWith(repoRoot)) return url.slice(repoRoot.length + 1);
  return url;
}

export function summarizeProfile(file: string, top = 12): string {
  return summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, file, top);
}

function onCpuMs(profile: CpuProfile): number {
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return profile.samples.reduce((sum, id, i) => sum + (idleIds.has(id) ? 0 : (profile.timeDeltas[i] ?? 0) / 1000), 0);
}

function summarize(profile: CpuProfile, file: string, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000; // ms
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    const key = `${node.callFrame.functionName || '(anonymous)'} ${place(node.callFrame)}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    const a = area(node.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!f.url.includes(`${repoRoot}/engine/`) && !f.url.includes(`${repoRoot}/providers/`)) continue;
      const k = `${f.functionName || '(anonymous)'} ${place(f)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  });
  const busy = total - idle;
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s (${((ms / Math.max(busy, 1)) * 100).toFixed(1)} %)`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `    ${fmt(v).padEnd(18)} ${k}`);
  return [
    `  profile ${file}`,
    `  wall ${(total / 1000).toFixed(1)} s, on CPU ${(busy / 1000).toFixed(2)} s`,
    '  by package or file (self time):',
    ...list(areas, top),
    '  by function (self time):',
    ...list(self, top),
    '  Plumbline functions (inclusive time):',
    ...list(inclusive, top),
  ].join('\n');
}

/**
 * The profiles a daemon left in `dir`: one per thread (the main thread, and
 * tsx's module loader thread). The busiest is summarized, the others get a line.
 */
export function summarizeProfiles(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const profiles = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ file: join(dir, f), profile: JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile }))
    .map((p) => ({ ...p, cpu: onCpuMs(p.profile) }))
    .sort((a, b) => b.cpu - a.cpu);
  if (profiles.length === 0) return undefined;
  const [main, ...others] = profiles;
  return [
    summarize(main!.profile, main!.file, 12),
    ...others.map((o) => `  other thread ${o.file}: on CPU ${(o.cpu / 1000).toFixed(2)} s`),
  ].join('\n');
}
