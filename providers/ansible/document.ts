import { createHash } from 'node:crypto';
import type { ChangeSummary, HostState } from '../../engine/model.ts';
import type { HostStatus } from '../../engine/provider.ts';
import type { HostCounts, HostRun, TaskChange } from './normalize.ts';
import type { PreflightFinding } from './preflight.ts';

/**
 * The plan of an inventory: per host, what `ansible-playbook --check --diff`
 * says would change, what it cannot check, and what the preflight found.
 * This is what the API serves, `plumbline show` prints (rendered) and the
 * apply reads back (to refuse when hosts were unreachable).
 */

export interface HostPlan {
  name: string;
  state: HostState;
  message?: string;
  counts: HostCounts;
  /** Tasks that change, cannot be checked, failed or did not reach the host. */
  tasks: TaskChange[];
  preflight?: PreflightFinding;
}

export interface AnsiblePlanDocument {
  kind: 'ansible';
  /** Repository-relative paths; `inventory` also names the output of `hostsFrom` (`inventories/web/hosts.yml + hostsFrom machines.hosts`). */
  inventory: string;
  playbook: string;
  knownHostsFile: string;
  hasChanges: boolean;
  destructive: boolean;
  totals: {
    hosts: number;
    changed: number;
    unknown: number;
    unreachable: number;
    failed: number;
    ok: number;
    /** host × task pairs. */
    changingTasks: number;
    uncheckableTasks: number;
    destructiveTasks: number;
  };
  hosts: HostPlan[];
  /** Hosts that could not be planned (preflight or Ansible): an apply needs `allowUnreachable`. */
  unreachable: string[];
  /** Restricted to these hosts (`limitHosts`), when the run was. */
  limit?: string[];
  allowUnreachable: boolean;
}

export const DOCUMENT_FILE = 'ansible-plan.json';

/** Merge the preflight and the check run into one record per host. */
export function buildHostPlans(names: readonly string[], runs: Map<string, HostRun>, findings: readonly PreflightFinding[]): HostPlan[] {
  const byHost = new Map(findings.map((f) => [f.host, f]));
  return [...names].sort().map((name) => {
    const finding = byHost.get(name);
    const run = runs.get(name);
    const empty: HostCounts = { ok: 0, changed: 0, unknown: 0, failed: 0, unreachable: 0, skipped: 0 };
    if (finding && !finding.reachable) {
      return { name, state: 'unreachable', message: finding.message ?? 'unreachable', counts: { ...empty, unreachable: 1 }, tasks: [], preflight: finding };
    }
    if (!run) {
      // In the inventory but not in the play's hosts: nothing to do there.
      return { name, state: 'ok', message: 'no play targets this host', counts: empty, tasks: [], ...(finding ? { preflight: finding } : {}) };
    }
    const warning = finding?.message && finding.reachable ? `; preflight: ${finding.message}` : '';
    return {
      name,
      state: run.state,
      ...(run.message || warning ? { message: `${run.message ?? run.state}${warning}` } : {}),
      counts: run.counts,
      tasks: run.tasks,
      ...(finding ? { preflight: finding } : {}),
    };
  });
}

export function buildDocument(input: {
  inventory: string;
  playbook: string;
  knownHostsFile: string;
  hosts: HostPlan[];
  allowUnreachable: boolean;
  limit?: readonly string[];
}): AnsiblePlanDocument {
  const count = (state: HostState) => input.hosts.filter((h) => h.state === state).length;
  const tasks = input.hosts.flatMap((h) => h.tasks);
  const unreachable = input.hosts.filter((h) => h.state === 'unreachable').map((h) => h.name);
  const changing = tasks.filter((t) => t.status === 'changed');
  const uncheckable = tasks.filter((t) => t.status === 'unknown');
  const failed = tasks.filter((t) => t.status === 'failed' && !t.ignored);
  const destructive = changing.some((t) => t.destructive);
  return {
    kind: 'ansible',
    inventory: input.inventory,
    playbook: input.playbook,
    knownHostsFile: input.knownHostsFile,
    // Unknown tasks may change something; a failing check needs the real run;
    // an unreachable host is not known to be in sync.
    hasChanges: changing.length > 0 || uncheckable.length > 0 || failed.length > 0 || unreachable.length > 0,
    destructive,
    totals: {
      hosts: input.hosts.length,
      changed: count('changed'),
      unknown: count('unknown'),
      unreachable: unreachable.length,
      failed: count('failed'),
      ok: count('ok'),
      changingTasks: changing.length,
      uncheckableTasks: uncheckable.length,
      destructiveTasks: changing.filter((t) => t.destructive).length,
    },
    hosts: input.hosts,
    unreachable,
    ...(input.limit ? { limit: [...input.limit] } : {}),
    allowUnreachable: input.allowUnreachable,
  };
}

/**
 * The engine's change summary for an inventory: `change` counts host × task
 * pairs that change or cannot be checked (`unknown`), `destroy` the changing
 * pairs that remove something; `add` and `replace` are always 0.
 */
export function summaryOf(document: AnsiblePlanDocument): ChangeSummary {
  return {
    add: 0,
    change: document.totals.changingTasks - document.totals.destructiveTasks + document.totals.uncheckableTasks,
    destroy: document.totals.destructiveTasks,
    replace: 0,
  };
}

export function hostStatuses(hosts: readonly HostPlan[]): HostStatus[] {
  return hosts.map((h) => ({ name: h.name, state: h.state, ...(h.message ? { message: shorten(h.message) } : {}) }));
}

/**
 * What the plan would do, without timings, messages or anything that differs
 * between two checks of the same state.
 */
export function fingerprintOf(document: AnsiblePlanDocument): string {
  const stable = {
    hosts: document.hosts.map((h) => ({
      name: h.name,
      state: h.state,
      tasks: h.tasks.map((t) => ({ play: t.play, task: t.task, path: t.path, status: t.status, destructive: t.destructive, diff: t.diff ?? null, items: t.items ?? null })),
    })),
    limit: document.limit ?? null,
  };
  return createHash('sha256').update(JSON.stringify(stable)).digest('hex');
}

export function shorten(text: string, max = 500): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
