import { type HostState, repoRelativeText } from '../../engine/provider-kit.ts';
import { unifiedDiff } from './diff.ts';
import type { HostResult, ItemResult, PlaybookOutput } from './output-schema.ts';
import { stoppedHosts } from './stopped-hosts.ts';

/**
 * From the callback's raw results to what a plan or an apply says per host:
 * the tasks that change (with their diffs), the tasks that cannot be checked,
 * the failures, and counts. Raw results never leave this module: module
 * arguments and return values may hold anything.
 */

export type TaskStatus = 'changed' | 'unknown' | 'failed' | 'unreachable';

export interface TaskChange {
  play: string;
  task: string;
  /** `file:line` of the task, repository-relative when it is inside the repository. */
  path: string;
  action: string;
  status: TaskStatus;
  /** Removes something (see `destructiveReason`): `auto-unless-destroy` waits for approval. */
  destructive: boolean;
  destructiveReason?: string;
  /** The task has `no_log`: its result, arguments and diff are hidden. */
  noLog: boolean;
  /** Why it is unknown or failed (module message), masked later. */
  message?: string;
  /** A failure the play ignored (`ignore_errors`). */
  ignored?: boolean;
  /** Unified diff of every changed file or item. */
  diff?: string;
  /** Loop items that change, by label. */
  items?: string[];
}

export interface HostCounts {
  ok: number;
  changed: number;
  unknown: number;
  failed: number;
  unreachable: number;
  skipped: number;
}

export interface HostRun {
  name: string;
  /**
   * Never `unknown`: a task check mode cannot predict is listed (status
   * `unknown`) but leaves the host `ok` when nothing else is found.
   */
  state: HostState;
  counts: HostCounts;
  /** Only tasks that change, cannot be checked, failed or did not reach the host. */
  tasks: TaskChange[];
  /**
   * The play stopped before this host ran to its end, because of another
   * host's failure (a `run_once` task that failed): why, for people.
   */
  stopped?: string;
  /** Short: why the host is in this state. */
  message?: string;
}

/** Messages of modules that did not run because of check mode: the plan cannot know. */
const CHECK_MODE_SKIP = /would have run if not in check mode|does not support check mode|check mode is not supported|not supported in check mode/i;
const REMOVING_STATES = new Set(['absent', 'removed', 'purged', 'deleted', 'unmounted']);
/** Temporary files Ansible diffs against: their names change on every run. */
const TEMP_HEADER = /(^|\/)(ansible-local-[^/]+|ansible-tmp-[^/]+)\//;

export interface NormalizeOptions {
  /**
   * The run's folders that hold the repository (the workspace tree, the
   * read-only snapshot it links into; Ansible resolves links, so a role's
   * tasks may be reported under either): stripped from paths and headers.
   */
  roots?: readonly string[];
}

export function normalizeRun(output: PlaybookOutput, options: NormalizeOptions = {}): Map<string, HostRun> {
  const hosts = new Map<string, HostRun>();
  const host = (name: string): HostRun => {
    let entry = hosts.get(name);
    if (!entry) {
      entry = { name, state: 'ok', counts: { ok: 0, changed: 0, unknown: 0, failed: 0, unreachable: 0, skipped: 0 }, tasks: [] };
      hosts.set(name, entry);
    }
    return entry;
  };
  const strip = (text: string) => repoRelativeText(text, options.roots ?? []);

  for (const play of output.plays) {
    for (const entry of play.tasks) {
      for (const [name, result] of Object.entries(entry.hosts)) {
        const run = host(name);
        const change = classify(result);
        if (change.status === 'ok') run.counts.ok += 1;
        else if (change.status === 'skipped') run.counts.skipped += 1;
        else run.counts[change.status] += 1;
        if (change.status === 'ok' || change.status === 'skipped') continue;
        const noLog = isNoLog(result);
        const task: TaskChange = {
          play: play.play.name,
          task: entry.task.name || result.action || '(unnamed task)',
          path: strip(entry.task.path ?? ''),
          action: result.action ?? 'unknown',
          status: change.status,
          destructive: false,
          noLog,
        };
        if (change.message) task.message = strip(change.message);
        if (change.status === 'changed' && !noLog) {
          const reason = destructiveReason(result);
          if (reason) {
            task.destructive = true;
            task.destructiveReason = reason;
          }
          const diff = diffOf(result, strip);
          if (diff) task.diff = diff;
          const items = changedItems(result);
          if (items.length > 0) task.items = items;
        }
        run.tasks.push(task);
      }
    }
  }

  for (const [name, stats] of Object.entries(output.stats)) {
    const run = host(name);
    // The recap is authoritative for failures: a failure under ignore_errors is not one.
    if (stats.failures === 0) for (const t of run.tasks) if (t.status === 'failed') t.ignored = true;
    if (stats.unreachable > 0 && run.counts.unreachable === 0) run.counts.unreachable = stats.unreachable;
  }
  for (const [name, why] of stoppedHosts(output)) {
    const run = hosts.get(name);
    if (run) run.stopped = why;
  }
  for (const run of hosts.values()) {
    const stats = output.stats[run.name];
    const failures = stats ? stats.failures : run.tasks.filter((t) => t.status === 'failed').length;
    // A host the play left half done is not in the state its first tasks suggest.
    const failed = failures > 0 || run.stopped !== undefined;
    run.state = run.counts.unreachable > 0 ? 'unreachable' : failed ? 'failed' : run.counts.changed > 0 ? 'changed' : 'ok';
    run.message = hostMessage(run);
  }
  return hosts;
}

function classify(result: HostResult): { status: TaskStatus | 'ok' | 'skipped'; message?: string } {
  if (result.unreachable) return { status: 'unreachable', message: text(result.msg) };
  if (result.failed) return { status: 'failed', message: failureMessage(result) };
  const items = result.results ?? [];
  if (items.some((i) => i.unreachable)) return { status: 'unreachable', message: text(items.find((i) => i.unreachable)?.msg) };
  if (items.some((i) => i.failed)) return { status: 'failed', message: failureMessage(items.find((i) => i.failed)!) };
  if (result.changed || items.some((i) => i.changed)) return { status: 'changed', message: undefined };
  const unknown = [result, ...items].find(isCheckModeSkip);
  if (unknown) return { status: 'unknown', message: text(unknown.msg) ?? 'not run in check mode' };
  if (result.skipped) return { status: 'skipped' };
  return { status: 'ok' };
}

/**
 * A skip caused by check mode, not by a `when:` (`skip_reason`) or an empty
 * loop (`skipped_reason`): commands without creates/removes, modules without
 * check support, and actions such as `raw` that skip in check mode without a
 * word.
 */
function isCheckModeSkip(result: ItemResult): boolean {
  if (!result.skipped) return false;
  const msg = text(result.msg);
  if (msg !== undefined && CHECK_MODE_SKIP.test(msg)) return true;
  return msg === undefined && result.skip_reason === undefined && result.skipped_reason === undefined && result.censored === undefined;
}

function isNoLog(result: HostResult): boolean {
  return typeof result.censored === 'string' || result.results?.some((i) => typeof i.censored === 'string') === true;
}

function failureMessage(result: ItemResult): string {
  const msg = text(result.msg);
  const stderr = text((result as Record<string, unknown>).stderr);
  if (msg && stderr && msg.startsWith('non-zero return code')) return `${msg}: ${stderr.split('\n').slice(-3).join(' ')}`;
  if (typeof result.censored === 'string') return 'failed (output hidden by no_log)';
  return msg ?? stderr ?? 'failed';
}

/** Why a changed result removes something, or undefined. */
export function destructiveReason(result: HostResult): string | undefined {
  for (const r of [result, ...(result.results ?? [])]) {
    if (r !== result && !r.changed) continue;
    const args = moduleArgs(r);
    const state = typeof args.state === 'string' ? args.state : undefined;
    if (state && REMOVING_STATES.has(state)) return `state: ${state}`;
    if (args.remove === true) return 'remove: true';
    if (args.purge === true) return 'purge: true';
    for (const d of diffEntries(r)) {
      const before = d.before;
      const after = d.after;
      if (isRecord(after) && after.state === 'absent' && !(isRecord(before) && before.state === 'absent')) return 'state: absent';
    }
  }
  return undefined;
}

function moduleArgs(result: ItemResult): Record<string, unknown> {
  const invocation = result.invocation;
  if (isRecord(invocation) && isRecord(invocation.module_args)) return invocation.module_args;
  return {};
}

interface DiffEntry {
  before?: unknown;
  after?: unknown;
  before_header?: unknown;
  after_header?: unknown;
  prepared?: unknown;
  src_binary?: unknown;
  dst_binary?: unknown;
  src_larger?: unknown;
  dst_larger?: unknown;
}

function diffEntries(result: ItemResult): DiffEntry[] {
  const diff = result.diff;
  if (Array.isArray(diff)) return diff.filter(isRecord) as DiffEntry[];
  if (isRecord(diff)) return [diff as DiffEntry];
  return [];
}

function diffOf(result: HostResult, strip: (s: string) => string): string | undefined {
  const parts: string[] = [];
  const sources: ItemResult[] = result.results ? result.results.filter((i) => i.changed) : [result];
  for (const source of sources) {
    for (const entry of diffEntries(source)) {
      const rendered = renderDiffEntry(entry, strip);
      if (rendered) parts.push(rendered);
    }
  }
  return parts.length > 0 ? parts.join('') : undefined;
}

function renderDiffEntry(entry: DiffEntry, strip: (s: string) => string): string | undefined {
  if (typeof entry.prepared === 'string' && entry.prepared.trim() !== '') {
    return entry.prepared.endsWith('\n') ? strip(entry.prepared) : `${strip(entry.prepared)}\n`;
  }
  const notes: string[] = [];
  if (entry.dst_binary) notes.push('(the current file is binary: no diff)');
  if (entry.src_binary) notes.push('(the new file is binary: no diff)');
  if (typeof entry.dst_larger === 'number') notes.push(`(the current file is larger than ${entry.dst_larger} bytes: no diff)`);
  if (typeof entry.src_larger === 'number') notes.push(`(the new file is larger than ${entry.src_larger} bytes: no diff)`);
  if (notes.length > 0) return `${notes.join('\n')}\n`;
  if (entry.before === undefined && entry.after === undefined) return undefined;
  const beforeHeader = header(entry.before_header, 'before', strip);
  let afterHeader = header(entry.after_header, 'after', strip);
  if (typeof entry.after_header === 'string' && TEMP_HEADER.test(entry.after_header)) {
    afterHeader = typeof entry.before_header === 'string' ? `${strip(entry.before_header)} (new content)` : 'after';
  }
  const diff = unifiedDiff(asText(entry.before), asText(entry.after), { before: beforeHeader, after: afterHeader });
  return diff || undefined;
}

function header(value: unknown, fallback: string, strip: (s: string) => string): string {
  return typeof value === 'string' && value !== '' && !TEMP_HEADER.test(value) ? strip(value) : fallback;
}

/** Text as it is; a mapping (file attributes, user settings) as sorted `key: value` lines. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (isRecord(value)) {
    return Object.keys(value)
      .sort()
      .map((k) => `${k}: ${typeof value[k] === 'string' ? value[k] : JSON.stringify(value[k])}\n`)
      .join('');
  }
  return `${JSON.stringify(value, null, 2)}\n`;
}

function changedItems(result: HostResult): string[] {
  return (result.results ?? [])
    .filter((i) => i.changed)
    .map((i) => {
      const label = i._ansible_item_label ?? i.item;
      return typeof label === 'string' ? label : JSON.stringify(label);
    })
    .filter((l): l is string => typeof l === 'string');
}

function hostMessage(run: HostRun): string | undefined {
  const names = (status: TaskStatus) => [...new Set(run.tasks.filter((t) => t.status === status && !t.ignored).map((t) => t.task))];
  const unknown = names('unknown');
  const uncheckable = unknown.length > 0 ? `cannot be checked in check mode: ${unknown.join(', ')}` : undefined;
  switch (run.state) {
    case 'unreachable':
      return run.tasks.find((t) => t.status === 'unreachable')?.message ?? 'unreachable';
    case 'failed': {
      const failed = run.tasks.find((t) => t.status === 'failed' && !t.ignored);
      if (failed) return `${failed.task}: ${failed.message ?? 'failed'}`;
      return run.stopped ?? 'failed';
    }
    case 'changed':
      return `changes: ${names('changed').join(', ')}${uncheckable ? `; ${uncheckable}` : ''}`;
    default:
      return uncheckable;
  }
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (value === undefined || value === null) return undefined;
  return JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
