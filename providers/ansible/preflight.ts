import { readFile } from 'node:fs/promises';
import type { NodeSSH } from 'node-ssh';
import type { Logger } from '../../engine/provider-kit.ts';
import type { HostTarget } from './inventory.ts';
import { describeVerdict, fingerprint, keyTypeOf, knownKeyTypes, lookupName, type HostKeyVerdict, type KnownHostEntry, verifyHostKey } from './known-hosts.ts';

/**
 * Before Ansible runs, every host is checked in parallel over SSH: can it be
 * reached, is its host key the one in known_hosts (checked here, so a refusal
 * names the key's fingerprint), and is python3 there for Ansible's modules.
 * Hosts that fail the first two are left out of the Ansible run and reported
 * as unreachable; a missing python3 is a warning (a play may bootstrap it).
 */

export interface PreflightFinding {
  host: string;
  address: string;
  port: number;
  /** Connected and authenticated with a verified host key. */
  reachable: boolean;
  hostKey: HostKeyVerdict['status'] | 'not-checked';
  /** `SHA256:...` of the key the host offered, when it offered one. */
  fingerprint?: string;
  keyType?: string;
  /** Path of python3 on the host; null when absent; undefined when not checked. */
  python?: string | null;
  /** Problems and warnings, for people. */
  message?: string;
  durationMs: number;
}

export interface PreflightOptions {
  knownHosts: readonly KnownHostEntry[];
  knownHostsFile: string;
  privateKeyFile: string | null;
  timeoutMs: number;
  log: Logger;
  /** Connections at once. */
  concurrency?: number;
  signal?: AbortSignal;
}

export async function preflight(targets: readonly HostTarget[], options: PreflightOptions): Promise<PreflightFinding[]> {
  const privateKey = options.privateKeyFile ? await readFile(options.privateKeyFile, 'utf8').catch(() => null) : null;
  const queue = [...targets];
  const results: PreflightFinding[] = [];
  const workers = Array.from({ length: Math.min(options.concurrency ?? 32, queue.length) }, async () => {
    for (let target = queue.shift(); target; target = queue.shift()) {
      results.push(await checkHost(target, options, privateKey));
    }
  });
  await Promise.all(workers);
  return results.sort((a, b) => a.host.localeCompare(b.host));
}

async function checkHost(target: HostTarget, options: PreflightOptions, privateKey: string | null): Promise<PreflightFinding> {
  const started = performance.now();
  const name = lookupName(target.address, target.port);
  const base = { host: target.name, address: target.address, port: target.port };
  const elapsed = () => Math.round(performance.now() - started);
  if (!target.ssh) {
    return { ...base, reachable: true, hostKey: 'not-checked', message: `connection ${target.connection}: not checked`, durationMs: elapsed() };
  }
  if (target.templated) {
    return { ...base, reachable: true, hostKey: 'not-checked', message: 'address or port is a template: left to Ansible', durationMs: elapsed() };
  }
  const keyFile = target.privateKeyFile ?? options.privateKeyFile;
  const key = keyFile === options.privateKeyFile ? privateKey : await readFile(keyFile!, 'utf8').catch(() => null);
  if (keyFile && key === null) {
    return { ...base, reachable: false, hostKey: 'not-checked', message: `cannot read the private key ${keyFile}`, durationMs: elapsed() };
  }

  const known = knownKeyTypes(options.knownHosts, name);
  let verdict: HostKeyVerdict | undefined;
  const ssh = await newSsh();
  try {
    await ssh.connect({
      host: target.address,
      port: target.port,
      username: target.user,
      ...(key ? { privateKey: key } : process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
      readyTimeout: options.timeoutMs,
      // Offer only the key types known for the host, as ssh does, so a host
      // with several keys is checked against the one we know.
      ...(known.length > 0 ? { algorithms: { serverHostKey: expandKeyTypes(known) } } : {}),
      hostVerifier: (hostKey: Buffer) => {
        verdict = verifyHostKey(options.knownHosts, name, hostKey);
        return verdict.status === 'ok';
      },
    });
  } catch (error) {
    ssh.dispose();
    const reason = (error as Error).message;
    if (verdict && verdict.status !== 'ok') {
      return {
        ...base,
        reachable: false,
        hostKey: verdict.status,
        fingerprint: verdict.fingerprint,
        keyType: verdict.keyType,
        message: describeVerdict(target.name, name, verdict, options.knownHostsFile),
        durationMs: elapsed(),
      };
    }
    if (!verdict && known.length > 0 && /handshake|no matching|host key/i.test(reason)) {
      // The host offers none of the known key types: fetch what it offers, for the message.
      const offered = await offeredKey(target, options.timeoutMs);
      if (offered) {
        const print = fingerprint(offered);
        return {
          ...base,
          reachable: false,
          hostKey: 'changed',
          fingerprint: print,
          keyType: keyTypeOf(offered),
          message: `${target.name}: host key verification failed: ${name} offers a ${keyTypeOf(offered)} key ${print}, but ${options.knownHostsFile} only knows ${known.join(', ')} keys for it`,
          durationMs: elapsed(),
        };
      }
    }
    return { ...base, reachable: false, hostKey: verdict?.status ?? 'not-checked', ...(verdict ? { fingerprint: verdict.fingerprint, keyType: verdict.keyType } : {}), message: `${target.name}: cannot connect to ${target.address}:${target.port}: ${reason}`, durationMs: elapsed() };
  }
  try {
    const interpreter = target.python && /^[\w./-]+$/.test(target.python) ? target.python : 'python3';
    const probe = await ssh.execCommand(`command -v ${interpreter} || true`);
    const python = probe.stdout.trim() || null;
    return {
      ...base,
      reachable: true,
      hostKey: 'ok',
      ...(verdict ? { fingerprint: verdict.fingerprint, keyType: verdict.keyType } : {}),
      python,
      ...(python ? {} : { message: `${target.name}: ${interpreter} not found on the host; Ansible modules need it` }),
      durationMs: elapsed(),
    };
  } catch (error) {
    return { ...base, reachable: true, hostKey: 'ok', message: `${target.name}: cannot run a command: ${(error as Error).message}`, durationMs: elapsed() };
  } finally {
    ssh.dispose();
  }
}

/** node-ssh (and ssh2 under it, a large library) loads at the first preflight, not with the provider at the daemon's start. */
async function newSsh(): Promise<NodeSSH> {
  const { NodeSSH } = await import('node-ssh');
  return new NodeSSH();
}

/** RSA keys are offered under three signature algorithms. */
function expandKeyTypes(types: readonly string[]): string[] {
  return types.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
}

/** Connect without a key-type preference only to see the key the host offers; never authenticates. */
async function offeredKey(target: HostTarget, timeoutMs: number): Promise<Buffer | undefined> {
  let offered: Buffer | undefined;
  const ssh = await newSsh();
  try {
    await ssh.connect({
      host: target.address,
      port: target.port,
      username: target.user,
      readyTimeout: timeoutMs,
      hostVerifier: (hostKey: Buffer) => {
        offered = hostKey;
        return false;
      },
    });
  } catch {
    // refused on purpose
  } finally {
    ssh.dispose();
  }
  return offered;
}
