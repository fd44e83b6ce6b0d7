import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { run, type ExecResult } from '../engine/exec.ts';

/**
 * Throwaway SSH hosts for the tests and the benchmark: one real OpenSSH
 * server per loopback address (127.0.0.2, 127.0.0.3...), each with its own
 * host key, its own config and its own `root` folder (a directory on this
 * machine standing for that host's filesystem; plays receive it as the host
 * variable `plumbline_root`, and to sessions as PLUMBLINE_HOST_ROOT). Clients log in as the current user with a
 * generated ed25519 key; `knownHostsFile` lists every host's key.
 */

export interface StartSshHostsOptions {
  count: number;
  /** First loopback address; the others follow (default 127.0.0.2). */
  firstAddress?: string;
  /** TCP port every host listens on, on its own address (default 2222). */
  port?: number;
  /** Folder for keys, configs and the hosts' root folders; created if missing. */
  dir: string;
  /** Host names; default `host-1`, `host-2`... */
  names?: readonly string[];
  /** Keep the keys a previous start left in `dir` (the demo's known_hosts stays the same). */
  reuseKeys?: boolean;
}

export interface SshHost {
  name: string;
  address: string;
  port: number;
  /** The host's "filesystem": a folder on this machine. */
  root: string;
  /** `[address]:port` (or the bare address on port 22), as known_hosts writes it. */
  knownHostsName: string;
  /** The host's current public key line (`ssh-ed25519 AAAA...`). */
  publicKey(): Promise<string>;
  running(): boolean;
  /** Stop the server and every connection it holds (a host that went away). */
  stop(): Promise<void>;
  /** Start it again (after `stop`). */
  start(): Promise<void>;
  /**
   * Give the host a new host key (as after a reinstall); restarts it if it was
   * running. `knownHostsFile` keeps the old key, as a client's would.
   */
  rotateHostKey(): Promise<void>;
}

export interface SshHosts {
  hosts: SshHost[];
  knownHostsFile: string;
  privateKeyFile: string;
  user: string;
  /** Stop every host; safe to call twice. */
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const START_TIMEOUT_MS = 15_000;

export async function startSshHosts(options: StartSshHostsOptions): Promise<SshHosts> {
  const dir = resolve(options.dir);
  const port = options.port ?? 2222;
  const first = options.firstAddress ?? '127.0.0.2';
  const octets = first.split('.').map(Number);
  if (octets.length !== 4 || octets[0] !== 127 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`firstAddress must be a 127.x.y.z loopback address (got ${JSON.stringify(first)})`);
  }
  if ((octets[3] ?? 0) + options.count - 1 > 254) {
    throw new Error(`${options.count} hosts from ${first} do not fit in ${octets.slice(0, 3).join('.')}.0/24`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // sshd insists on its privilege separation folder, even for a one-off server.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => undefined);

  const privateKeyFile = join(dir, 'client_ed25519');
  if (!(options.reuseKeys && (await exists(privateKeyFile)) && (await exists(`${privateKeyFile}.pub`)))) {
    await rm(privateKeyFile, { force: true });
    await rm(`${privateKeyFile}.pub`, { force: true });
    await keygen(privateKeyFile, 'plumbline-client');
  }
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${privateKeyFile}.pub`, 'utf8'), { mode: 0o600 });
  const knownHostsFile = join(dir, 'known_hosts');
  const user = userInfo().username;

  const hosts: ManagedHost[] = [];
  for (let i = 0; i < options.count; i += 1) {
    const address = [octets[0], octets[1], octets[2], (octets[3] ?? 0) + i].join('.');
    const name = options.names?.[i] ?? `host-${i + 1}`;
    hosts.push(new ManagedHost(name, address, port, join(dir, name), authorizedKeys));
  }
  try {
    for (const host of hosts) await host.prepare(options.reuseKeys ?? false);
    await writeKnownHosts(knownHostsFile, hosts);
    await Promise.all(hosts.map((h) => h.start()));
  } catch (error) {
    await Promise.all(hosts.map((h) => h.stop()));
    throw error;
  }
  let stopped = false;
  return {
    hosts,
    knownHostsFile,
    privateKeyFile,
    user,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(hosts.map((h) => h.stop()));
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function keygen(file: string, comment: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { timeoutMs: 30_000 });
}

async function writeKnownHosts(file: string, hosts: readonly ManagedHost[]): Promise<void> {
  const lines = await Promise.all(hosts.map(async (h) => `${h.knownHostsName} ${await h.publicKey()}`));
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o644 });
}

class ManagedHost implements SshHost {
  readonly root: string;
  readonly knownHostsName: string;
  private readonly hostKeyFile: string;
  private readonly configFile: string;
  private readonly pidFile: string;
  private process: { controller: AbortController; done: Promise<ExecResult | Error>; settled: boolean } | undefined;

  constructor(
    readonly name: string,
    readonly address: string,
    readonly port: number,
    private readonly home: string,
    private readonly authorizedKeys: string,
  ) {
    this.root = join(home, 'root');
    this.hostKeyFile = join(home, 'ssh_host_ed25519_key');
    this.configFile = join(home, 'sshd_config');
    this.pidFile = join(home, 'sshd.pid');
    this.knownHostsName = port === 22 ? address : `[${address}]:${port}`;
  }

  async prepare(reuseKey: boolean): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o755 });
    if (!(reuseKey && (await exists(this.hostKeyFile)) && (await exists(`${this.hostKeyFile}.pub`)))) {
      await rm(this.hostKeyFile, { force: true });
      await rm(`${this.hostKeyFile}.pub`, { force: true });
      await keygen(this.hostKeyFile, this.name);
    }
    await writeFile(
      this.configFile,
      [
        `ListenAddress ${this.address}:${this.port}`,
        `HostKey ${this.hostKeyFile}`,
        `PidFile ${this.pidFile}`,
        `AuthorizedKeysFile ${this.authorizedKeys}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PrintMotd no',
        'AcceptEnv LANG LC_*',
        `SetEnv PLUMBLINE_HOST_ROOT="${this.root}"`,
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
  }

  async publicKey(): Promise<string> {
    const [type, key] = (await readFile(`${this.hostKeyFile}.pub`, 'utf8')).trim().split(/\s+/);
    return `${type} ${key}`;
  }

  running(): boolean {
    return this.process !== undefined && !this.process.settled;
  }

  async start(): Promise<void> {
    if (this.running()) return;
    const controller = new AbortController();
    const state = {
      controller,
      settled: false,
      done: run(SSHD, ['-D', '-e', '-f', this.configFile], { signal: controller.signal, timeoutMs: 0, okExitCodes: [0, 255] }).then(
        (r) => r,
        (e: Error) => e,
      ),
    };
    void state.done.then(() => (state.settled = true));
    this.process = state;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (state.settled) {
        const outcome = await state.done;
        const output = outcome instanceof Error ? outcome.message : `${outcome.stderr}${outcome.stdout}`;
        throw new Error(`sshd for ${this.name} (${this.address}:${this.port}) exited at start: ${output.trim().slice(-2000)}`);
      }
      if (await accepts(this.address, this.port)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`sshd for ${this.name} did not accept connections on ${this.address}:${this.port} within ${START_TIMEOUT_MS / 1000}s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const state = this.process;
    if (!state) return;
    this.process = undefined;
    // Connections are children of the listener in their own sessions: end them
    // first, or a multiplexed client would keep reaching a "stopped" host.
    const pid = await readPid(this.pidFile);
    if (pid !== undefined) {
      const children = await childrenOf(pid);
      for (const child of children) killQuietly(child, 'SIGTERM');
      // Let the listener reap them (no zombies left behind), then make sure.
      const deadline = Date.now() + 2_000;
      while (Date.now() < deadline && (await Promise.all(children.map(alive))).some(Boolean)) await new Promise((r) => setTimeout(r, 20));
      for (const child of children) if (await alive(child)) killQuietly(child, 'SIGKILL');
    }
    state.controller.abort();
    await state.done;
    await rm(this.pidFile, { force: true });
  }

  async rotateHostKey(): Promise<void> {
    const wasRunning = this.running();
    await this.stop();
    await rm(this.hostKeyFile, { force: true });
    await rm(`${this.hostKeyFile}.pub`, { force: true });
    await keygen(this.hostKeyFile, this.name);
    if (wasRunning) await this.start();
  }
}

async function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolveAccept) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveAccept(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Direct children of a process, from /proc (Linux). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Running (not ended, not a zombie waiting to be reaped). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
