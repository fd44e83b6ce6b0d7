import type { PlaybookOutput } from './output-schema.ts';

/**
 * Hosts a play left half done because another host failed. When a
 * `run_once` task fails, Ansible marks every host of the play failed and
 * stops the play, but the callback records the result (and the recap counts
 * the failure) only for the one host that ran the task: the others look `ok`
 * although they never ran the rest of the playbook.
 *
 * Read from the output alone: a task with a single host result that failed
 * for good (the recap counts a failure for that host), other hosts of the
 * same play that ran earlier tasks but have no result for this one, and no
 * result anywhere after it. Returns host => why.
 */
export function stoppedHosts(output: PlaybookOutput): Map<string, string> {
  const lastResult = new Map<string, number>();
  const candidates: Array<{ host: string; at: number; why: string }> = [];
  let at = 0;
  for (const play of output.plays) {
    const seenInPlay = new Set<string>();
    for (const entry of play.tasks) {
      at += 1;
      const names = Object.keys(entry.hosts);
      const only = names.length === 1 ? names[0]! : undefined;
      if (only !== undefined && entry.hosts[only]!.failed === true && (output.stats[only]?.failures ?? 0) > 0) {
        const why = `did not run to the end: the play stopped when "${entry.task.name || 'a task'}" failed on ${only} (run once for all hosts)`;
        for (const host of seenInPlay) if (host !== only) candidates.push({ host, at, why });
      }
      for (const name of names) {
        seenInPlay.add(name);
        lastResult.set(name, at);
      }
    }
  }
  const stopped = new Map<string, string>();
  for (const c of candidates) {
    const stats = output.stats[c.host];
    const ranLater = (lastResult.get(c.host) ?? 0) > c.at;
    const ownTrouble = stats !== undefined && (stats.failures > 0 || stats.unreachable > 0);
    if (!ranLater && !ownTrouble && !stopped.has(c.host)) stopped.set(c.host, c.why);
  }
  return stopped;
}
