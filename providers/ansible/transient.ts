import type { HostRun } from './normalize.ts';

/**
 * Ansible's ssh connection says this when a connection it had opened broke
 * while it sent a module (a ControlMaster that went away, a loaded host that
 * dropped the session): the host answered a moment before, and is most often
 * there again at once. A host that refuses connections or whose key changed
 * says something else.
 */
const DATA_NOT_SENT = /Data could not be sent to remote host/i;

/**
 * The hosts a check run lost on the way: worth one more check of those hosts
 * alone, rather than a failed plan for all of them and a retry of the whole
 * inventory later. Only for checks: an apply that broke off mid-way is never
 * run again by itself.
 */
export function transientlyLost(runs: ReadonlyMap<string, HostRun>): string[] {
  return [...runs.values()].filter((r) => r.state === 'unreachable' && r.tasks.some((t) => t.status === 'unreachable' && DATA_NOT_SENT.test(t.message ?? ''))).map((r) => r.name);
}
