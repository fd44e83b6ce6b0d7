import { readFile, stat } from 'node:fs/promises';
import { release } from 'node:os';
import { writeFileAtomic } from '../store/atomic.ts';

/**
 * The bubblewrap probe's last success, remembered in the state folder so a
 * restart does not run bwrap again before its API answers. It holds only for
 * the same bwrap binary (path, size, modification time) on the same kernel,
 * user and user-namespace settings: change any of them and the next start
 * probes again. A failed probe is never remembered (it may have been a
 * timeout on a busy host), so a host where bubblewrap does not work is
 * probed, and says why, at every start.
 */

/** What a cached success is only valid for. */
export interface ProbeKey {
  bwrap: string;
  size: number;
  mtimeMs: number;
  kernel: string;
  uid: number;
  /** The sysctls that decide whether an unprivileged user may create namespaces (absent ones left out). */
  userns: Record<string, string>;
}

const FORMAT = 1;

/** The kernel settings that allow or forbid the namespaces bwrap creates. */
const USERNS_SETTINGS = ['/proc/sys/kernel/unprivileged_userns_clone', '/proc/sys/user/max_user_namespaces', '/proc/sys/kernel/apparmor_restrict_unprivileged_userns'];

/** The key of `bwrap` on this host now; null when the binary cannot be read (then nothing is cached). */
export async function probeKey(bwrap: string): Promise<ProbeKey | null> {
  let info;
  try {
    info = await stat(bwrap);
  } catch {
    return null;
  }
  const userns: Record<string, string> = {};
  for (const file of USERNS_SETTINGS) {
    const value = await readFile(file, 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
    if (value !== undefined) userns[file] = value;
  }
  return { bwrap, size: info.size, mtimeMs: info.mtimeMs, kernel: release(), uid: process.getuid?.() ?? -1, userns };
}

/** Whether a success was remembered for exactly this key. A missing, unreadable or foreign file is no. */
export async function probedBefore(file: string, key: ProbeKey): Promise<boolean> {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return false;
  }
  try {
    const saved = JSON.parse(text) as { format?: unknown; ok?: unknown; key?: unknown };
    return saved.format === FORMAT && saved.ok === true && sameKey(saved.key, key);
  } catch {
    return false;
  }
}

/** Remember that bwrap worked under `key`. */
export async function rememberSuccess(file: string, key: ProbeKey): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify({ format: FORMAT, ok: true, key, probedAt: new Date().toISOString() }, null, 1)}\n`);
}

function sameKey(saved: unknown, key: ProbeKey): boolean {
  return JSON.stringify(saved) === JSON.stringify(key);
}
