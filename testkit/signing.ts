import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommitSigner } from './git-repo.ts';

/**
 * Real signing keys for tests, made in `dir` by the tools themselves: an
 * ed25519 key by ssh-keygen, an OpenPGP key by gpg in a GnuPG home of its own
 * (never the user's). Each gives the signer TestRepo.commit takes and the
 * line or block the daemon's trust file needs.
 */

export interface SshKey {
  /** `<name>@example.com`: the principal the allowed-signers line names. */
  principal: string;
  signer: CommitSigner;
  /** `ssh-ed25519 AAAA... comment` */
  publicKey: string;
  /** `SHA256:...`, as ssh-keygen and git print it. */
  fingerprint: string;
  /** A line of git's allowed-signers file trusting this key for its principal. */
  allowedSigner: string;
}

export function sshKey(dir: string, name: string): SshKey {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  const publicKey = readFileSync(`${file}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  const principal = `${name}@example.com`;
  return { principal, signer: { config: { 'gpg.format': 'ssh', 'user.signingkey': file } }, publicKey, fingerprint, allowedSigner: `${principal} ${publicKey}` };
}

export interface GpgKey {
  signer: CommitSigner;
  /** The primary key's fingerprint. */
  fingerprint: string;
  /** The public key, armored: what the daemon's keyring file holds. */
  armored: string;
  /** Stop the agent gpg started in this key's home for signing. */
  dispose(): void;
}

export function gpgKey(dir: string, name: string, email: string): GpgKey {
  const home = join(dir, `gnupg-${email}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = (args: string[]) => execFileSync('gpg', ['--batch', '--homedir', home, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  gpg(['--passphrase', '', '--quick-gen-key', `${name} <${email}>`, 'ed25519', 'sign', 'never']);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(['--with-colons', '--list-keys', email]))![1]!;
  return {
    // Named by address, gpg writes the signer's user ID into the signature (GnuPG's NEWSIG shows it).
    signer: { config: { 'gpg.format': 'openpgp', 'user.signingkey': email }, env: { GNUPGHOME: home } },
    fingerprint,
    armored: gpg(['--armor', '--export', fingerprint]),
    dispose: () => {
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
    },
  };
}

/** Two people, alice (trusted at first) and mallory (not), and the trust file the daemon reads. */
export interface Trust<K> {
  alice: K;
  mallory: K;
  /** The trust file (allowed signers, or armored keyring). */
  file: string;
  /** Rewrite the trust file to trust exactly these keys. */
  trust(...keys: K[]): void;
}

export function sshTrust(dir: string): Trust<SshKey> {
  const file = join(dir, 'allowed_signers');
  const trust = (...keys: SshKey[]) => writeFileSync(file, keys.map((k) => `${k.allowedSigner}\n`).join(''));
  const people = { alice: sshKey(dir, 'alice'), mallory: sshKey(dir, 'mallory'), file, trust };
  trust(people.alice);
  return people;
}

/** The same with OpenPGP keys; `dispose` stops the agents gpg started for signing. */
export function gpgTrust(dir: string): Trust<GpgKey> & { dispose(): void } {
  const file = join(dir, 'trusted-keys.asc');
  const trust = (...keys: GpgKey[]) => writeFileSync(file, keys.map((k) => k.armored).join(''));
  const alice = gpgKey(dir, 'Alice', 'alice@example.com');
  const mallory = gpgKey(dir, 'Mallory', 'mallory@example.com');
  trust(alice);
  return { alice, mallory, file, trust, dispose: () => [alice, mallory].forEach((k) => k.dispose()) };
}
