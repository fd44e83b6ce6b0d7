import { basename } from 'node:path';
import type { Options as ExecaOptions, Result as ExecaOutcome, ResultPromise } from 'execa';
import { type ErrorCode, ToolError, type RetryClass } from './errors.ts';
import type { Logger } from './log.ts';
import { OutputFiles } from './output-files.ts';
import { sandboxedCommand } from './sandbox/launch.ts';
import { signalGroup, signalGroupMembers } from './sandbox/process-group.ts';
import type { SandboxSpec } from './sandbox/types.ts';
import { secrets } from './secrets.ts';

/**
 * The one way Plumbline starts a subprocess. Arguments are always an array (no
 * shell ever parses them), stdin is closed unless input is given, every call has
 * a timeout and can be cancelled, and the result is typed. Callers that expect a
 * non-zero exit code as a normal answer (terraform's -detailed-exitcode) list it
 * in `okExitCodes`.
 */
export interface ExecOptions {
  cwd?: string;
  /** Added to the daemon's own environment. */
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending it. */
  extendEnv?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string;
  okExitCodes?: readonly number[];
  log?: Logger;
  /** How to classify a failing exit; the caller knows its tool best. */
  classify?: (result: ExecResult) => { code: ErrorCode; hint?: string; retry?: RetryClass } | undefined;
  /**
   * Run under bubblewrap, seeing only what the spec names (engine/sandbox/):
   * providers build it with `sandboxFor` / `runSandbox` from the provider kit.
   */
  sandbox?: SandboxSpec;
  /**
   * The tool's output goes to files, not pipes, so the tool finishes what it
   * started when the daemon dies (a pipe would kill it with SIGPIPE at its
   * next line, mid-apply). For applies: another daemon takes the run over.
   */
  outlivesDaemon?: boolean;
}

export interface ExecResult {
  command: string;
  args: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;
const MAX_BUFFER = 512 * 1024 * 1024;
/** SIGTERM first so terraform can release its state lock, SIGKILL this much later. */
const FORCE_KILL_AFTER_MS = 10_000;

/** How many processes each tool started: the benchmark and tests read this. */
export const processCounts = new Map<string, number>();

export async function run(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  // Loaded with the first process: loading a config (which reads the
  // providers' declarations through engine/provider-kit.ts) starts none.
  const { execa } = await import('execa');
  const tool = basename(command);
  processCounts.set(tool, (processCounts.get(tool) ?? 0) + 1);
  const started = performance.now();
  const sandboxed = options.sandbox ? await sandboxedCommand(command, args, { ...(options.cwd ? { cwd: options.cwd } : {}), ...(options.env ? { env: options.env } : {}), spec: options.sandbox }) : null;
  options.log?.debug({ command: tool, args: args.map((a) => secrets.maskText(a)), cwd: options.cwd, sandboxed: sandboxed !== null }, 'executing command');

  const common: ExecaOptions = {
    cwd: options.cwd,
    env: { CI: '1', GIT_TERMINAL_PROMPT: '0', ...options.env, ...sandboxed?.env },
    extendEnv: options.extendEnv ?? true,
    // A process group of its own: a Ctrl-C meant for the daemon (the terminal
    // signals the whole foreground group) must not interrupt a running apply.
    // The daemon decides: plans are cancelled through the signal, applies finish.
    detached: true,
    input: options.input,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: MAX_BUFFER,
    encoding: 'utf8',
  };
  const stdin = options.input === undefined ? 'ignore' : 'pipe';
  if (sandboxed && options.signal?.aborted) throw new ToolError('E_CANCELLED', `${tool} was cancelled`, { retry: 'transient' });
  const capture = options.outlivesDaemon ? await OutputFiles.open(tool) : undefined;
  // A descriptor is handed to the child as is; execa's types name only 3 to 9.
  const stdout = (capture?.stdout ?? 'pipe') as 'pipe';
  const stderr = (capture?.stderr ?? 'pipe') as 'pipe';
  let stopped: 'cancelled' | 'timedOut' | undefined;
  let out: ExecaOutcome;
  if (sandboxed) {
    const child = execa(sandboxed.command, sandboxed.args, { ...common, stdio: [stdin, stdout, stderr, ...sandboxed.inputs] });
    ({ out, stopped } = await stopInside(child, options, sandboxed.outlive).finally(() => capture?.closeOurs()));
  } else {
    out = await execa(command, [...args], {
      ...common,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      cancelSignal: options.signal,
      forceKillAfterDelay: FORCE_KILL_AFTER_MS,
      stdin,
      stdout,
      stderr,
    }).finally(() => capture?.closeOurs());
    stopped = out.isCanceled ? 'cancelled' : out.timedOut ? 'timedOut' : undefined;
  }
  const captured = capture ? await capture.readAndRemove() : undefined;
  const result: ExecResult = {
    command: tool,
    args,
    exitCode: out.exitCode ?? -1,
    stdout: captured?.stdout ?? String(out.stdout ?? ''),
    stderr: captured?.stderr ?? String(out.stderr ?? ''),
    durationMs: Math.round(performance.now() - started),
  };
  options.log?.debug({ command: tool, exitCode: result.exitCode, durationMs: result.durationMs }, 'command finished');

  if (sandboxed && result.exitCode === 1 && result.stderr.startsWith('bwrap: ')) {
    // bubblewrap itself could not set the sandbox up: the tool never ran.
    throw new ToolError('E_SANDBOX_FAILED', `${tool} could not be started in its sandbox: ${summarizeStderr(result)}`, {
      retry: 'stalled',
      hint: 'check the paths of the sandbox grants in plumbline.yaml; `sandbox: off` runs tools unsandboxed',
      cause: out instanceof Error ? out : undefined,
    });
  }
  const okCodes = options.okExitCodes ?? [0];
  if (!stopped && (!out.failed || (out.exitCode !== undefined && okCodes.includes(out.exitCode)))) {
    return result;
  }
  const cause = out instanceof Error ? out : undefined;
  if (stopped === 'cancelled') {
    throw new ToolError('E_CANCELLED', `${tool} was cancelled`, { retry: 'transient', cause });
  }
  if (stopped === 'timedOut') {
    throw new ToolError('E_TOOL_TIMEOUT', `${tool} did not finish within ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)}s`, {
      retry: 'transient',
      hint: 'raise the timeout in plumbline.yaml if this run is legitimately long',
      cause,
    });
  }
  if ((out as { code?: string }).code === 'ENOENT') {
    throw new ToolError('E_TOOL_MISSING', `${command} was not found`, {
      retry: 'stalled',
      hint: `install ${tool} on the control host or set its path in plumbline.yaml`,
      cause,
    });
  }
  const classified = options.classify?.(result);
  throw new ToolError(
    classified?.code ?? 'E_TOOL_FAILED',
    `${tool} ${args[0] ?? ''} exited with ${result.exitCode}: ${summarizeStderr(result)}`,
    { retry: classified?.retry ?? 'stalled', hint: classified?.hint, cause, details: { exitCode: result.exitCode } },
  );
}

/**
 * Waits for a sandboxed process: the cancel signal and the timeout stop the
 * tool inside (see engine/sandbox/process-group.ts), not bubblewrap's
 * monitor, which exits once the tool has. Then what the tool left running
 * in its process namespace (an SSH ControlPersist master) ends with it: its
 * init would otherwise wait for them, holding the output open. Processes
 * of a unit granted `outlive` have no such namespace and stay.
 */
async function stopInside(child: ResultPromise, options: ExecOptions, outlive: boolean): Promise<{ out: ExecaOutcome; stopped: 'cancelled' | 'timedOut' | undefined }> {
  const leader = child.pid;
  let stopped: 'cancelled' | 'timedOut' | undefined;
  let forceKill: NodeJS.Timeout | undefined;
  const stop = (why: 'cancelled' | 'timedOut'): void => {
    if (stopped || leader === undefined) return;
    stopped = why;
    void signalGroupMembers(leader, 'SIGTERM');
    forceKill = setTimeout(() => signalGroup(leader, 'SIGKILL'), FORCE_KILL_AFTER_MS);
  };
  if (!outlive && leader !== undefined) child.once('exit', () => signalGroup(leader, 'SIGKILL'));
  const onAbort = (): void => stop('cancelled');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timer = timeoutMs > 0 ? setTimeout(() => stop('timedOut'), timeoutMs) : undefined;
  try {
    return { out: await child, stopped };
  } finally {
    clearTimeout(timer);
    clearTimeout(forceKill);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The last meaningful lines of a failing tool's output, secrets masked. */
export function summarizeStderr(result: Pick<ExecResult, 'stderr' | 'stdout'>, maxLines = 20): string {
  const text = result.stderr.trim() || result.stdout.trim();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return secrets.maskText(lines.slice(-maxLines).join('\n'));
}
