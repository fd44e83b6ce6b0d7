import { readdir, readFile } from 'node:fs/promises';

/**
 * bubblewrap's monitor process does not pass signals on to the sandbox, and
 * its death would cut the tool off without a word. A sandboxed tool is
 * stopped by signalling the other members of the process group the monitor
 * leads (the tool and what it started; bubblewrap's init inside ignores the
 * signal), so the tool ends as it would by itself (terraform releases its
 * state lock) and the monitor then exits with it.
 */
export async function signalGroupMembers(leader: number, signal: NodeJS.Signals): Promise<void> {
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry) || Number(entry) === leader) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // After the command's name: state, ppid, pgrp.
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (pgrp === leader) send(Number(entry), signal);
  }
}

/** The whole group, the monitor included: the last resort once the grace period is over. */
export function signalGroup(leader: number, signal: NodeJS.Signals): void {
  send(-leader, signal);
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}
