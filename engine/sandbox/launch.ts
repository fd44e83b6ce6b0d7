import { PlumblineError, ToolError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { bwrapArgs } from './bwrap-args.ts';
import { probedBefore, probeKey, rememberSuccess } from './probe-cache.ts';
import { accountNames, findExecutable, hostView } from './host.ts';
import { denyTracing } from './seccomp.ts';
import type { SandboxMode, SandboxSpec, SandboxStatus } from './types.ts';

/**
 * Whether bubblewrap works on this host (probed once, with the sandbox every
 * run gets, around `true`; a daemon remembers a success across starts), and
 * the command line of a sandboxed process.
 */

interface Probe {
  ok: boolean;
  /** Why not, in a sentence. */
  reason?: string;
  bwrap?: string;
  /** The success was remembered from an earlier start (probe-cache.ts), bwrap was not run now. */
  remembered?: boolean;
}

/** Where a daemon remembers a successful probe, and where it says that it could not. */
export interface ProbeMemory {
  file: string;
  log: Logger;
}

let probed: Promise<Probe> | undefined;
let known: Probe | undefined;

/**
 * Probe bubblewrap once per process; later calls return the same answer.
 * The first caller with `memory` (the daemon) lets a success be remembered
 * across starts.
 */
export function probeSandbox(memory?: ProbeMemory): Promise<Probe> {
  probed ??= probe(memory).then((result) => (known = result));
  return probed;
}

async function probe(memory: ProbeMemory | undefined): Promise<Probe> {
  const bwrap = findExecutable('bwrap', process.env.PATH);
  if (!bwrap) return { ok: false, reason: 'bubblewrap (bwrap) is not installed' };
  const key = memory ? await probeKey(bwrap) : null;
  if (memory && key && (await probedBefore(memory.file, key))) return { ok: true, bwrap, remembered: true };
  const result = await runProbe(bwrap);
  if (memory && key && result.ok) {
    await rememberSuccess(memory.file, key).catch((error: unknown) =>
      memory.log.warn({ file: memory.file, err: error }, 'could not remember the bubblewrap probe: the next start probes again'),
    );
  }
  return result;
}

/** Run bwrap with the sandbox every run gets, around `true`. */
async function runProbe(bwrap: string): Promise<Probe> {
  const trueCommand = findExecutable('true', process.env.PATH) ?? '/bin/true';
  const { args, inputs } = bwrapArgs({ command: trueCommand, args: [], spec: { mode: 'bwrap', readOnly: [], readWrite: [] }, accounts: [] }, hostView);
  const { execa } = await import('execa');
  const out = await execa(bwrap, args, { reject: false, timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe', ...inputs], encoding: 'utf8' });
  if (out.exitCode === 0) return { ok: true, bwrap };
  const said = String(out.stderr ?? '').trim().split('\n')[0] || `exit code ${out.exitCode ?? 'none'}`;
  return { ok: false, reason: `bubblewrap does not work on this host: ${said}`, bwrap };
}

/** The sandbox of this daemon as `status` and `/metrics` show it; call after `probeSandbox()` has settled. */
export function sandboxStatus(mode: SandboxMode): SandboxStatus {
  if (mode === 'off') return { mode, enabled: false, reason: 'sandbox: off in plumbline.yaml' };
  if (!known) return { mode, enabled: false, reason: 'bubblewrap has not been probed yet' };
  return known.ok ? { mode, enabled: true } : { mode, enabled: false, reason: known.reason ?? 'bubblewrap does not work on this host' };
}

/**
 * At the daemon's start: probe bubblewrap (or recall an earlier start's
 * success from `memoryFile`), and say loudly when tool processes will run
 * unsandboxed. `sandbox: bwrap` on a host where it does not work stops the
 * daemon before anything runs.
 */
export async function startSandbox(mode: SandboxMode, log: Logger, memoryFile?: string): Promise<SandboxStatus> {
  const probe = mode === 'off' ? undefined : await probeSandbox(memoryFile ? { file: memoryFile, log } : undefined);
  const status = sandboxStatus(mode);
  if (status.enabled) {
    log.info({ sandbox: 'bwrap', ...(probe?.remembered ? { probe: 'remembered from an earlier start' } : {}) }, 'tool processes run sandboxed (bubblewrap)');
  } else if (mode === 'bwrap') {
    throw new PlumblineError('E_SANDBOX_UNAVAILABLE', `sandbox: bwrap is set, but ${status.reason ?? 'bubblewrap does not work on this host'}`, { retry: 'stalled', hint: SANDBOX_UNAVAILABLE_HINT });
  } else {
    log.warn(
      { sandbox: 'off', mode, reason: status.reason, hint: mode === 'auto' ? SANDBOX_UNAVAILABLE_HINT : undefined },
      'TOOL PROCESSES RUN UNSANDBOXED: terraform, CDKTF apps and Ansible can read everything the daemon can (its API token, store and config, every unit\'s state and keys)',
    );
  }
  return status;
}

/** Will tool processes of this mode run sandboxed? (`bwrap` on a host without it fails every run instead.) */
export async function sandboxEnabled(mode: SandboxMode): Promise<boolean> {
  return mode === 'bwrap' || (mode === 'auto' && (await probeSandbox()).ok);
}

export const SANDBOX_UNAVAILABLE_HINT =
  'install bubblewrap (Debian and Ubuntu: apt-get install bubblewrap) and allow user namespaces, or set `sandbox: auto` (unsandboxed when bubblewrap does not work) or `sandbox: off` in plumbline.yaml';

export interface SandboxedCommand {
  command: string;
  args: string[];
  /** Data for file descriptors 3, 4, ... */
  inputs: Uint8Array[];
  /** Changes to the environment inside. */
  env: Record<string, string | undefined>;
  /** Its processes may outlive it (no process namespace). */
  outlive: boolean;
}

/**
 * The bubblewrap command that runs `command` under `spec`, or null when the
 * process runs unsandboxed (`off`, or `auto` on a host without bubblewrap).
 */
export async function sandboxedCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; spec: SandboxSpec },
): Promise<SandboxedCommand | null> {
  const { spec } = options;
  if (spec.mode === 'off') return null;
  const probe = await probeSandbox();
  if (!probe.ok) {
    if (spec.mode === 'auto') return null;
    throw new ToolError('E_SANDBOX_UNAVAILABLE', `sandbox: bwrap is set, but ${probe.reason ?? 'bubblewrap does not work on this host'}`, {
      retry: 'stalled',
      hint: SANDBOX_UNAVAILABLE_HINT,
    });
  }
  const path = options.env?.PATH ?? process.env.PATH;
  const executable = findExecutable(command, path, options.cwd);
  if (!executable) {
    throw new ToolError('E_TOOL_MISSING', `${command} was not found`, {
      retry: 'stalled',
      hint: `install ${command} on the control host or set its path in plumbline.yaml`,
    });
  }
  let seccomp: Uint8Array | undefined;
  if (spec.outlive) {
    seccomp = denyTracing() ?? undefined;
    if (!seccomp) {
      throw new ToolError('E_SANDBOX_UNSUPPORTED', `processes that outlive the run (sandbox grant outlive: true) are not supported on ${process.arch}`, {
        retry: 'stalled',
        hint: 'remove outlive from the grant in plumbline.yaml',
      });
    }
  }
  const home = process.env.HOME;
  const built = bwrapArgs({ command: executable, args, ...(options.cwd ? { cwd: options.cwd } : {}), spec, ...(home ? { home } : {}), accounts: accountNames(), ...(seccomp ? { seccomp } : {}) }, hostView);
  return { command: probe.bwrap!, args: built.args, inputs: built.inputs, env: sandboxEnvironment(options.env ?? {}), outlive: spec.outlive === true };
}

/**
 * The daemon's environment passes on (provider credentials live there), but
 * not Plumbline's own variables (`PLUMBLINE_TOKEN` of a shell that started
 * the daemon) unless the run sets them itself; the temp folder is the
 * sandbox's private /tmp.
 */
function sandboxEnvironment(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const cleared = Object.fromEntries(Object.keys(process.env).filter((name) => name.startsWith('PLUMBLINE_') && !(name in env)).map((name) => [name, undefined]));
  return { ...cleared, TMPDIR: '/tmp' };
}
