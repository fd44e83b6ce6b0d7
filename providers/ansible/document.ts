import { createHash } from 'node:crypto';
import type { ChangeSummary, HostState, HostStatus } from '../../engine/provider-kit.ts';
import type { HostCounts, HostRun, TaskChange } from './normalize.ts';
import type { PreflightFinding } from './preflight.ts';

/**
 * The plan of an inventory: per targeted host, what `ansible-playbook
 * --check --diff` says would change, and why a host could not be checked;
 * apart from those, the tasks check mode cannot predict. This is what the
 * API serves, `plumbline show` prints (rendered) and the apply reads back
 * (to refuse when hosts were unreachable, to run on the hosts planned).
 */

export interface HostPlan {
  name: string;
  state: HostState;
  message?: string;
  counts: HostCounts;
  /** Tasks that change, failed or did not reach the host (never `unknown` ones: see `uncertain`). */
  tasks: TaskChange[];
  /** Only for hosts Ansible could not reach: what the SSH preflight found about them. */
  preflight?: PreflightFinding;
}

/**
 * A task check mode cannot predict (`command`, `shell`, `raw`, a module
 * without check support): it runs when a change is applied, and is never
 * counted as a change.
 */
export interface UncertainTask {
  play: string;
  task: string;
  path: string;
  action: string;
  /** The module's word on it (`Command would have run if not in check mode`), when it said one. */
  why?: string;
  noLog: boolean;
  hosts: string[];
}

export interface AnsiblePlanDocument {
  kind: 'ansible';
  /** Repository-relative paths; `inventory` also names the output of `hostsFrom` (`inventories/web/hosts.yml + hostsFrom machines.hosts`). */
  inventory: string;
  playbook: string;
  knownHostsFile: string;
  /** The ansible.cfg in force (repository-relative), or null when the repository has none. */
  config: string | null;
  /** A task would change, a check failed, or a targeted host is unreachable. */
  hasChanges: boolean;
  destructive: boolean;
  totals: {
    /** Hosts a play targets (others in the inventory are neither checked nor listed). */
    hosts: number;
    changed: number;
    unreachable: number;
    failed: number;
    ok: number;
    /** host × task pairs. */
    changingTasks: number;
    uncheckableTasks: number;
    destructiveTasks: number;
  };
  hosts: HostPlan[];
  uncertain: UncertainTask[];
  /** Hosts that could not be planned: an apply needs `allowUnreachable`. */
  unreachable: string[];
  /** Restricted to these hosts (`RunRequest.targets`), when the run was. */
  limit?: string[];
  allowUnreachable: boolean;
}

export const DOCUMENT_FILE = 'ansible-plan.json';

/**
 * One record per host the check run reached or tried to reach (the hosts its
 * plays target), with the preflight's explanation of those it could not.
 */
export function buildHostPlans(runs: Map<string, HostRun>, findings: readonly PreflightFinding[]): HostPlan[] {
  const byHost = new Map(findings.map((f) => [f.host, f]));
  return [...runs.keys()].sort().map((name) => {
    const run = runs.get(name)!;
    const finding = byHost.get(name);
    const tasks = run.tasks.filter((t) => t.status !== 'unknown');
    // The preflight says why Ansible could not connect (a changed host key, with its fingerprint).
    const explained = run.state === 'unreachable' && finding && !finding.reachable ? finding.message : undefined;
    const message = explained ?? run.message;
    return { name, state: run.state, ...(message ? { message } : {}), counts: run.counts, tasks, ...(finding ? { preflight: finding } : {}) };
  });
}

/** The tasks check mode cannot predict, one entry per task with the hosts it runs on. */
export function uncertainTasks(runs: Map<string, HostRun>): UncertainTask[] {
  const byTask = new Map<string, UncertainTask>();
  for (const name of [...runs.keys()].sort()) {
    for (const t of runs.get(name)!.tasks) {
      if (t.status !== 'unknown') continue;
      const key = JSON.stringify([t.play, t.path, t.task]);
      const entry = byTask.get(key);
      if (entry) {
        if (!entry.hosts.includes(name)) entry.hosts.push(name);
        continue;
      }
      byTask.set(key, { play: t.play, task: t.task, path: t.path, action: t.action, ...(t.message ? { why: t.message } : {}), noLog: t.noLog, hosts: [name] });
    }
  }
  return [...byTask.values()];
}

export function buildDocument(input: {
  inventory: string;
  playbook: string;
  knownHostsFile: string;
  config: string | null;
  hosts: HostPlan[];
  uncertain: UncertainTask[];
  allowUnreachable: boolean;
  limit?: readonly string[];
}): AnsiblePlanDocument {
  const count = (state: HostState) => input.hosts.filter((h) => h.state === state).length;
  const tasks = input.hosts.flatMap((h) => h.tasks);
  const unreachable = input.hosts.filter((h) => h.state === 'unreachable').map((h) => h.name);
  const changing = tasks.filter((t) => t.status === 'changed');
  const failed = tasks.filter((t) => t.status === 'failed' && !t.ignored);
  const destructive = changing.some((t) => t.destructive);
  return {
    kind: 'ansible',
    inventory: input.inventory,
    playbook: input.playbook,
    knownHostsFile: input.knownHostsFile,
    config: input.config,
    // A failing check needs the real run; an unreachable host is not known to
    // be in sync. Tasks check mode cannot predict are not changes.
    hasChanges: changing.length > 0 || failed.length > 0 || count('failed') > 0 || unreachable.length > 0,
    destructive,
    totals: {
      hosts: input.hosts.length,
      changed: count('changed'),
      unreachable: unreachable.length,
      failed: count('failed'),
      ok: count('ok'),
      changingTasks: changing.length,
      uncheckableTasks: input.uncertain.reduce((n, u) => n + u.hosts.length, 0),
      destructiveTasks: changing.filter((t) => t.destructive).length,
    },
    hosts: input.hosts,
    uncertain: input.uncertain,
    unreachable,
    ...(input.limit ? { limit: [...input.limit] } : {}),
    allowUnreachable: input.allowUnreachable,
  };
}

/**
 * The engine's change summary for an inventory: `change` counts host × task
 * pairs that change, `destroy` those that remove something; `add` and
 * `replace` are always 0. Tasks check mode cannot predict are not counted.
 */
export function summaryOf(document: AnsiblePlanDocument): ChangeSummary {
  return {
    add: 0,
    change: document.totals.changingTasks - document.totals.destructiveTasks,
    destroy: document.totals.destructiveTasks,
    replace: 0,
  };
}

/** `host => task` of every task that would change (PlanOutcome.changes). */
export function changeNames(document: AnsiblePlanDocument): string[] {
  return unique(document.hosts.flatMap((h) => h.tasks.filter((t) => t.status === 'changed').map((t) => `${h.name} => ${t.task}`)));
}

/** `host => task` of every task check mode cannot predict (PlanOutcome.uncertain), host by host. */
export function uncertainNames(document: AnsiblePlanDocument): string[] {
  return unique(document.hosts.flatMap((h) => document.uncertain.filter((u) => u.hosts.includes(h.name)).map((u) => `${h.name} => ${u.task}`)));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
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
    // What an apply would run although the check could not predict it.
    uncertain: document.uncertain.map((u) => ({ play: u.play, task: u.task, path: u.path, hosts: u.hosts })),
    limit: document.limit ?? null,
  };
  return createHash('sha256').update(JSON.stringify(stable)).digest('hex');
}

export function shorten(text: string, max = 500): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}
