import { dirname } from 'node:path';
import { isInside } from '../definitions/unit-paths.ts';
import type { SandboxSpec } from './types.ts';

/**
 * The bubblewrap command line of one sandboxed tool process. The sandbox
 * starts from an empty root and shows, read-only, the system folders and the
 * few files of /etc that tools need; then the paths of the spec. Everything
 * else of the host (the daemon's config and token, the store, other units'
 * state and keys, the daemon user's home) is simply not there.
 *
 * Pure: what the host has at a path comes from a `HostView`.
 */

/** Folders of the operating system, shown read-only (recreated as links where the host has links, /bin -> usr/bin). */
export const SYSTEM_FOLDERS: readonly string[] = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * Files of /etc tools need, each named: /etc as a whole also holds the
 * daemon's config and keys (/etc/plumbline), the host's SSH keys, /etc/shadow.
 */
export const SYSTEM_FILES: readonly string[] = [
  // Name resolution and networking.
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/nsswitch.conf',
  '/etc/gai.conf',
  '/etc/protocols',
  '/etc/services',
  // Accounts, names only (/etc/shadow is generated: see below).
  '/etc/passwd',
  '/etc/group',
  // The dynamic linker, Debian's alternatives, time, the system's identity.
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/localtime',
  '/etc/timezone',
  '/etc/os-release',
  '/etc/mime.types',
  // TLS trust (certificates only: never /etc/ssl/private or /etc/pki/tls/private).
  '/etc/ssl/certs',
  '/etc/ssl/openssl.cnf',
  '/etc/ca-certificates',
  '/etc/ca-certificates.conf',
  '/etc/pki/tls/certs',
  '/etc/pki/tls/cert.pem',
  '/etc/pki/tls/openssl.cnf',
  '/etc/pki/ca-trust',
  '/etc/crypto-policies',
  // The SSH client's configuration (never the host keys beside it).
  '/etc/ssh/ssh_config',
  '/etc/ssh/ssh_config.d',
];

/** What the host has at a path. */
export interface HostPath {
  kind: 'dir' | 'file' | 'other';
  /** The path with every link resolved. */
  real: string;
  /** What the path itself links to, when it is a link. */
  link?: string;
}

export interface HostView {
  /** null when nothing is there (or a link leads nowhere). */
  inspect(path: string): HostPath | null;
}

export interface BwrapRequest {
  /** Absolute path of the tool. */
  command: string;
  args: readonly string[];
  cwd?: string;
  spec: SandboxSpec;
  /** The daemon user's home: an empty, private folder inside. */
  home?: string;
  /** Account names of /etc/passwd: the generated /etc/shadow lists each, without a password. */
  accounts: readonly string[];
  /** A seccomp program (see seccomp.ts), for processes that may outlive the run. */
  seccomp?: Uint8Array;
}

export interface BwrapInvocation {
  args: string[];
  /** Data for file descriptors 3, 4, ... that `args` name. */
  inputs: Uint8Array[];
}

export function bwrapArgs(request: BwrapRequest, host: HostView): BwrapInvocation {
  const { spec } = request;
  const args: string[] = ['--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  const inputs: Uint8Array[] = [];
  const fd = (data: Uint8Array): string => String(3 + inputs.push(data) - 1);
  // A process namespace of its own: the tool sees no other process of the
  // host (their /proc entries lead into the host's files), and whatever it
  // starts in the background ends with it. A unit granted `outlive` keeps
  // the host's process table, and then gets no /proc at all.
  if (!spec.outlive) args.push('--unshare-pid');
  args.push('--cap-drop', 'ALL', ...(spec.capabilities ?? []).flatMap((cap) => ['--cap-add', cap]));

  const bound = new Map<string, boolean>();
  const system: string[] = [];
  const links: Array<{ target: string; path: string }> = [];
  const bind = (path: string, writable: boolean): void => {
    const info = host.inspect(path);
    if (!info) return;
    // Each path once (writable wins); read-only below a system folder is shown already.
    const needed = writable ? bound.get(info.real) !== true : !bound.has(info.real) && !system.some((folder) => isInside(folder, info.real));
    if (needed) {
      args.push(writable ? '--bind' : '--ro-bind', info.real, info.real);
      bound.set(info.real, writable);
    }
    if (info.real !== path) links.push({ target: info.real, path });
  };

  for (const folder of SYSTEM_FOLDERS) {
    const info = host.inspect(folder);
    if (!info) continue;
    if (info.link !== undefined) args.push('--symlink', info.link, folder);
    else {
      bind(folder, false);
      system.push(info.real);
    }
  }
  args.push('--dev', '/dev');
  if (!spec.outlive) args.push('--proc', '/proc');
  args.push('--tmpfs', '/tmp');
  const home = request.home;
  if (home && home !== '/' && !isInside('/tmp', home) && !SYSTEM_FOLDERS.some((f) => isInside(f, home))) args.push('--tmpfs', home);

  for (const file of SYSTEM_FILES) bind(file, false);
  // sshd and others check whether an account is locked in /etc/shadow; the
  // host's holds password hashes, so each account is listed without one.
  args.push('--ro-bind-data', fd(new TextEncoder().encode(request.accounts.map((name) => `${name}:*:::::::\n`).join(''))), '/etc/shadow');

  bind(request.command, false);
  for (const { path, writable } of ordered(spec)) bind(path, writable);
  // A path reached through a link is bound where the link leads, and the
  // link made again, unless the folder holding it is shown already.
  const folders = [...system, ...bound.keys()];
  for (const { target, path } of links) {
    const parent = host.inspect(dirname(path))?.real ?? dirname(path);
    if (!folders.some((folder) => isInside(folder, parent))) args.push('--symlink', target, path);
  }

  if (request.seccomp) args.push('--seccomp', fd(request.seccomp));
  if (request.cwd) args.push('--chdir', request.cwd);
  args.push('--', request.command, ...request.args);
  return { args, inputs };
}

/**
 * The spec's paths, shallow before deep so that where paths nest the deeper
 * one decides (a writable workspace inside a read-only tree); a path asked
 * both ways is writable.
 */
function ordered(spec: SandboxSpec): Array<{ path: string; writable: boolean }> {
  const writable = new Set(spec.readWrite);
  const paths = [...new Set([...spec.readOnly, ...spec.readWrite])];
  const depth = (path: string): number => path.split('/').filter(Boolean).length;
  // Paths of one depth never nest, so their order only needs to be stable:
  // plain code-unit order, not localeCompare, whose first call sets up the
  // locale's collation rules (some 8 ms, in a one-shot `plumbline plan`).
  const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return paths.sort((a, b) => depth(a) - depth(b) || byText(a, b)).map((path) => ({ path, writable: writable.has(path) }));
}
