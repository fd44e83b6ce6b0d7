import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimit } from '../concurrency.ts';
import { PlumblineError, ToolError } from '../errors.ts';
import { run, summarizeStderr } from '../exec.ts';
import type { Logger } from '../log.ts';
import type { GitSource } from './git-source.ts';
import { gpgVerdict, sshVerdict, type CommitHeader, type SignatureFormat, type Verdict } from './signatures.ts';

/** `source.verify` in plumbline.yaml, normalized. */
export interface VerifySettings {
  mode: 'ssh' | 'gpg' | 'off';
  /** Absolute; git's allowed-signers format (mode ssh). */
  allowedSigners: string | null;
  /** Absolute; armored OpenPGP public keys (mode gpg). */
  keyring: string | null;
  /** Every new commit since the last reconciled one, not only the head. */
  allCommits: boolean;
}

export const VERIFY_OFF: VerifySettings = { mode: 'off', allowedSigners: null, keyring: null, allCommits: false };

/** A new commit the trusted keys do not vouch for. */
export interface UntrustedCommit {
  commit: string;
  subject: string;
  committer: string;
  /** Why it is not trusted, as the end of a sentence: `it is not signed`. */
  why: string;
  /** Who signed it, as the signature claims (a principal, a user ID), when it says. */
  signer?: string;
  /** The signing key (an SSH fingerprint, an OpenPGP key id or fingerprint). */
  key?: string;
}

const FORMAT_OF_MODE = { ssh: 'ssh', gpg: 'openpgp' } as const satisfies Record<'ssh' | 'gpg', SignatureFormat>;
const FORMAT_NAMES: Record<SignatureFormat, string> = { ssh: 'an SSH', openpgp: 'an OpenPGP', x509: 'an X.509', unknown: 'an unknown kind of' };
/** Signed commits checked at once (each check is git plus ssh-keygen or gpg). */
const PARALLEL_CHECKS = 4;

/**
 * source.verify: which new commits are not signed by a trusted key. Git
 * itself verifies (`git verify-commit`), against copies Plumbline keeps of the
 * operator's trust file in the state directory: the allowed-signers file, or a
 * GnuPG home of its own (0700) holding the keyring, imported again whenever
 * the file changes. Never the daemon user's own GnuPG home, never git's global
 * config. A commit is trusted only on a positive answer of the verifier; a
 * check that gives no answer is a transient error, never "untrusted".
 */
export class CommitVerifier {
  /** Digest of the trust file the last check used (undefined: none yet in this process). */
  private checkedDigest: string | undefined;
  /** Digest of the trust file the private copy holds. */
  private installedDigest: string | undefined;

  constructor(
    private readonly options: {
      settings: VerifySettings & { mode: 'ssh' | 'gpg' };
      source: GitSource;
      /** Where the private copies live (stateDir/source/). */
      dir: string;
      log: Logger;
    },
  ) {}

  get allCommits(): boolean {
    return this.options.settings.allCommits;
  }

  /**
   * The untrusted ones among the new commits: the head, or with allCommits
   * every commit since `since` (the last reconciled commit, when the mirror
   * still has it). [] when every one is trusted.
   */
  async untrusted(head: string, since: string | null): Promise<UntrustedCommit[]> {
    const trust = await this.readTrustFile();
    const digest = sha256(trust);
    await this.install(trust, digest);
    let commits = await this.options.source.commitHeaders(head, this.allCommits ? since : null);
    // A head rewound to an ancestor of `since` (sync --allow-rewrite) is outside the range: it is checked all the same.
    if (!commits.some((c) => c.sha === head)) commits = [...(await this.options.source.commitHeaders(head, null)), ...commits];
    const verdicts = await mapLimit(commits, PARALLEL_CHECKS, (commit) => this.check(commit));
    this.checkedDigest = digest;
    const untrusted: UntrustedCommit[] = [];
    commits.forEach((commit, i) => {
      const verdict = verdicts[i]!;
      if (verdict.trusted) return;
      const { why, signer, key } = verdict;
      untrusted.push({ commit: commit.sha, subject: commit.subject, committer: commit.committer, why, ...(signer ? { signer } : {}), ...(key ? { key } : {}) });
    });
    // rev-list lists newest first; people read history oldest first.
    return untrusted.reverse();
  }

  /**
   * Whether the trust file differs from the one the last check used: a head
   * stalled as untrusted is checked again when its key has been added. Reads
   * one file and starts no process (an idle poll stays one fetch).
   */
  async trustChanged(): Promise<boolean> {
    if (this.checkedDigest === undefined) return true;
    const trust = await this.readTrustFile().catch(() => undefined);
    return trust === undefined || sha256(trust) !== this.checkedDigest;
  }

  private get trustFile(): { path: string; key: string } {
    const { mode, allowedSigners, keyring } = this.options.settings;
    return mode === 'ssh' ? { path: allowedSigners!, key: 'source.verify.allowedSigners' } : { path: keyring!, key: 'source.verify.keyring' };
  }

  private async readTrustFile(): Promise<Buffer> {
    const { path, key } = this.trustFile;
    try {
      return await readFile(path);
    } catch (error) {
      // Waiting, not untrusted: without the file nothing can be told, and the head is not to blame.
      throw new PlumblineError('E_VERIFY_TRUST_FILE', `cannot read ${key} ${path}: ${(error as Error).message}`, {
        retry: 'waiting',
        hint: `create ${path}, readable by the daemon's user, or change ${key} in plumbline.yaml`,
        cause: error,
      });
    }
  }

  private async check(commit: CommitHeader): Promise<Verdict> {
    const mode = this.options.settings.mode;
    if (commit.signature === null) return { trusted: false, why: 'it is not signed' };
    if (commit.signature !== FORMAT_OF_MODE[mode]) {
      // Never handed to another verifier (an OpenPGP signature in ssh mode would run gpg in the daemon user's home).
      return { trusted: false, why: `it carries ${FORMAT_NAMES[commit.signature]} signature, and source.verify.mode is ${mode}` };
    }
    const result =
      mode === 'ssh'
        ? await this.options.source.verifyCommit(commit.sha, { 'gpg.ssh.allowedSignersFile': this.allowedSignersCopy })
        : await this.options.source.verifyCommit(commit.sha, { 'gpg.minTrustLevel': 'undefined' }, { GNUPGHOME: this.gnupgHome });
    const verdict = mode === 'ssh' ? sshVerdict(result.exitCode, result.output) : gpgVerdict(result.exitCode, result.output);
    if (verdict) return verdict;
    throw new ToolError('E_VERIFY_FAILED', `could not check the signature of commit ${commit.sha.slice(0, 8)}: git verify-commit exited with ${result.exitCode}: ${summarizeStderr({ stderr: result.output, stdout: '' }, 5) || 'no output'}`, {
      retry: 'transient',
      hint: mode === 'ssh' ? 'check that ssh-keygen (OpenSSH) is installed on the control host; the next poll checks again' : 'check that gpg is installed on the control host and that stateDir/source/gnupg is usable; the next poll checks again',
    });
  }

  private get allowedSignersCopy(): string {
    return join(this.options.dir, 'allowed_signers');
  }

  private get gnupgHome(): string {
    return join(this.options.dir, 'gnupg');
  }

  /** Bring the private copy of the trust file up to date (the keyring imported again when it changed). */
  private async install(trust: Buffer, digest: string): Promise<void> {
    if (this.installedDigest === digest) return;
    if (this.options.settings.mode === 'ssh') {
      await writePrivate(this.allowedSignersCopy, trust);
    } else {
      const marker = join(this.gnupgHome, 'keyring.sha256');
      const installed = await readFile(marker, 'utf8').catch(() => undefined);
      if (installed !== digest) {
        await this.importKeyring(trust);
        await writePrivate(marker, digest);
      }
    }
    this.installedDigest = digest;
  }

  /**
   * A fresh GnuPG home holding exactly the keyring's keys, swapped in for the
   * old one: a key removed from the file leaves the trusted set too. No agent
   * is started and no key is fetched from anywhere.
   */
  private async importKeyring(armored: Buffer): Promise<void> {
    const home = this.gnupgHome;
    const fresh = `${home}.new`;
    await rm(fresh, { recursive: true, force: true });
    await mkdir(fresh, { recursive: true, mode: 0o700 });
    await writeFile(join(fresh, 'gpg.conf'), 'no-autostart\nno-auto-key-retrieve\n', { mode: 0o600 });
    const copy = join(fresh, 'trusted-keys.asc');
    await writeFile(copy, armored, { mode: 0o600 });
    // Exit 2 may only mean "no agent" (gpg asks one about secret keys): the status lines tell what was imported.
    const result = await run('gpg', ['--batch', '--no-tty', '--status-fd', '1', '--import', copy], {
      env: { GNUPGHOME: fresh },
      okExitCodes: [0, 2],
      timeoutMs: 60_000,
      log: this.options.log,
      classify: () => ({ code: 'E_VERIFY_FAILED', retry: 'transient', hint: 'check that gpg is installed on the control host' }),
    });
    const imported = [...result.stdout.matchAll(/^\[GNUPG:\] IMPORT_OK \d+ (\S+)$/gm)].map((m) => m[1]!);
    const notImported = Number(/^\[GNUPG:\] IMPORT_RES (.*)$/m.exec(result.stdout)?.[1]?.split(' ')[13] ?? 0);
    const { path, key } = this.trustFile;
    if (imported.length === 0 || notImported > 0) {
      await rm(fresh, { recursive: true, force: true });
      const what = imported.length === 0 ? 'holds no public key gpg could import' : `holds ${notImported} key(s) gpg could not import`;
      throw new PlumblineError('E_VERIFY_KEYRING', `${key} ${path} ${what}: ${summarizeStderr(result, 5)}`, {
        retry: 'waiting',
        hint: `write the trusted public keys into ${path}, armored (gpg --armor --export KEYID >> ${path})`,
      });
    }
    await rm(home, { recursive: true, force: true });
    await rename(fresh, home);
    this.options.log.info({ keys: imported }, 'source.verify: trusted OpenPGP keys imported');
  }
}

/**
 * The source's message for untrusted commits: each one named with its
 * signer, and what gets the source going again.
 */
export function describeUntrusted(untrusted: readonly UntrustedCommit[], options: { allCommits: boolean; since: string | null }, shown = 5): string {
  const named = untrusted.slice(0, shown).map(describeCommit);
  const more = untrusted.length > shown ? `; and ${untrusted.length - shown} more` : '';
  const next =
    options.allCommits && options.since
      ? `Nothing is planned until every commit since ${options.since.slice(0, 8)} is trusted: sign them again (git rebase --force-rebase --gpg-sign ${options.since.slice(0, 8)}) and push, or trust their key.`
      : 'Nothing of it is planned until a commit signed by a trusted key is pushed on top, or its key is trusted.';
  return `untrusted ${untrusted.length === 1 ? 'commit' : 'commits'}: ${named.join('; ')}${more}. ${next}`;
}

function describeCommit(c: UntrustedCommit): string {
  const signed = c.signer ? `, signed by ${c.signer}${c.key ? ` (key ${c.key})` : ''}` : c.key ? `, signed with key ${c.key}` : '';
  return `${c.commit.slice(0, 8)} ("${c.subject}", committed by ${c.committer}${signed}): ${c.why}`;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Written whole or not at all, readable by the daemon's user only. */
async function writePrivate(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}
