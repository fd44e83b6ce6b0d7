import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../testkit/ports.ts';
import { startSshHosts, type SshHosts } from '../../testkit/ssh-hosts.ts';
import { onCleanup } from './cleanup.ts';

/** First address of the benchmark's hosts: far from the tests' 127.0.0.2-99. */
export const FIRST_HOST_ADDRESS = '127.0.0.100';

/** Throwaway sshd hosts on 127.0.0.100+ (one port, picked free on the first address). */
export class HostPool {
  private constructor(
    readonly ssh: SshHosts,
    private readonly stopFn: () => Promise<void>,
  ) {}

  static async start(dir: string, count: number): Promise<HostPool> {
    const port = await freePort(FIRST_HOST_ADDRESS);
    const ssh = await startSshHosts({ count, firstAddress: FIRST_HOST_ADDRESS, port, dir, names: Array.from({ length: count }, (_, i) => `node-${String(i + 1).padStart(2, '0')}`) });
    const stop = onCleanup('ssh hosts', () => ssh.stop());
    return new HostPool(ssh, stop);
  }

  get hosts() {
    return this.ssh.hosts;
  }

  knownHosts(): string {
    return readFileSync(this.ssh.knownHostsFile, 'utf8');
  }

  async stop(): Promise<void> {
    await this.stopFn();
  }
}

/**
 * Where the daemon puts ControlPersist sockets when `<stateDir>/cp` would be too
 * long for a unix socket path (see providers/ansible/cli.ts): removed at the end.
 */
export function fallbackControlDir(stateDir: string): string {
  return join(tmpdir(), `plumbline-cp-${createHash('sha256').update(stateDir).digest('hex').slice(0, 12)}`);
}

export function removeFallbackControlDir(stateDir: string): void {
  rmSync(fallbackControlDir(stateDir), { recursive: true, force: true });
}
