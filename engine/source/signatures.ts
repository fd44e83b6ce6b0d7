/**
 * Reading what git says about commit signatures. Pure functions over git's
 * own machine output: the raw headers `git rev-list --format=raw` prints, and
 * what `git verify-commit --raw` passes on from the verifier (ssh-keygen's
 * result line, or gpg's `[GNUPG:]` status lines). Nothing here decides trust
 * on its own: a commit is trusted only on a positive answer of the verifier.
 */

/** The kinds of signature git writes into a commit's `gpgsig` header. */
export type SignatureFormat = 'ssh' | 'openpgp' | 'x509' | 'unknown';

export interface CommitHeader {
  sha: string;
  /** null: the commit carries no signature at all. */
  signature: SignatureFormat | null;
  /** `Name <email>`, as the commit says (anyone can write anything here). */
  committer: string;
  /** The first line of the message. */
  subject: string;
}

/** What a verifier answered about one signed commit. */
export type Verdict =
  | { trusted: true; signer: string; key: string }
  | { trusted: false; why: string; signer?: string; key?: string };

const COMMIT_LINE = /^commit ([0-9a-f]{40}(?:[0-9a-f]{24})?)$/;

/**
 * `git rev-list --format=raw`: each commit starts with `commit <sha>` at the
 * start of a line, its headers follow (a long value continues on lines that
 * start with one space) up to an empty line, then the message, every line of
 * it indented by four spaces, so a message can never pass for a header.
 */
export function parseRawCommits(text: string): CommitHeader[] {
  const commits: CommitHeader[] = [];
  let current: CommitHeader | undefined;
  let inHeaders = false;
  for (const line of text.split('\n')) {
    const start = COMMIT_LINE.exec(line);
    if (start) {
      current = { sha: start[1]!, signature: null, committer: '', subject: '' };
      commits.push(current);
      inHeaders = true;
      continue;
    }
    if (!current) continue;
    if (inHeaders) {
      if (line === '') inHeaders = false;
      else if (!line.startsWith(' ')) readHeader(current, line);
      continue;
    }
    if (current.subject === '' && line.trim() !== '') current.subject = line.trim();
  }
  return commits;
}

function readHeader(commit: CommitHeader, line: string): void {
  const space = line.indexOf(' ');
  const name = space < 0 ? line : line.slice(0, space);
  const value = space < 0 ? '' : line.slice(space + 1);
  // As git reads it: `gpgsig` in a repository of SHA-1 names, `gpgsig-sha256` in one of SHA-256 names.
  if (name === (commit.sha.length === 64 ? 'gpgsig-sha256' : 'gpgsig')) commit.signature = signatureFormat(value);
  // `committer Name <email> 1700000000 +0000`: the date is not shown.
  if (name === 'committer') commit.committer = value.replace(/\s+\d+\s+[+-]\d{4}$/, '');
}

function signatureFormat(firstLine: string): SignatureFormat {
  const armor = firstLine.trim();
  if (armor === '-----BEGIN SSH SIGNATURE-----') return 'ssh';
  if (armor === '-----BEGIN PGP SIGNATURE-----' || armor === '-----BEGIN PGP MESSAGE-----') return 'openpgp';
  if (armor === '-----BEGIN SIGNED MESSAGE-----') return 'x509';
  return 'unknown';
}

/**
 * ssh mode. Git runs `ssh-keygen -Y find-principals` with the allowed-signers
 * file, then `-Y verify` for the principal found, or `-Y check-novalidate`
 * when none was (the signature is sound, its key trusted by nobody). Git 2.39
 * passes their output on:
 *
 *     Good "git" signature for alice@example.com with ED25519 key SHA256:...
 *     Good "git" signature with ED25519 key SHA256:...   (then: No principal matched.)
 *     Signature verification failed: incorrect signature
 *
 * Like git, the principal runs to the last ` with `. Anything else (ssh-keygen
 * missing or too old, git failing) is no answer: undefined.
 */
export function sshVerdict(exitCode: number, output: string): Verdict | undefined {
  const lines = output.split('\n').map((l) => l.trim());
  for (const line of lines) {
    const good = /^Good "git" signature for (.+) with (\S+) key (\S+)$/.exec(line);
    if (good && exitCode === 0) return { trusted: true, signer: good[1]!, key: good[3]! };
    const unknown = /^Good "git" signature with (\S+) key (\S+)$/.exec(line);
    if (unknown) {
      const expired = lines.find((l) => /key has expired|key is not yet valid/.test(l));
      const why = expired ? "its key is outside the validity source.verify.allowedSigners gives it at the commit's date" : 'its key is not in source.verify.allowedSigners';
      return { trusted: false, why, key: unknown[2]! };
    }
    const failed = /^Signature verification failed: (.+)$/.exec(line);
    if (failed) return { trusted: false, why: `its signature does not verify (${failed[1]})` };
  }
  return undefined;
}

/**
 * gpg mode. `--raw` passes gpg's `--status-fd` lines on (doc/DETAILS in
 * GnuPG): GOODSIG and VALIDSIG for a good signature by a key in the keyring;
 * ERRSIG with NO_PUBKEY for a key the keyring does not hold; BADSIG for a
 * signature that does not match; EXPSIG, EXPKEYSIG, REVKEYSIG for expired and
 * revoked ones. No status line at all (gpg missing, its home unusable) is no
 * answer: undefined.
 */
export function gpgVerdict(exitCode: number, output: string): Verdict | undefined {
  const status = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^\[GNUPG:\] (\S+) ?(.*)$/.exec(line.trim());
    if (match && !status.has(match[1]!)) status.set(match[1]!, match[2]!);
  }
  const claimed = status.get('NEWSIG')?.trim() || undefined;
  const keyAndUser = (value: string) => {
    const [key, ...user] = value.split(' ');
    return { key: key!, signer: user.join(' ') || claimed };
  };
  for (const [code, why] of [
    ['BADSIG', 'its signature does not match its content'],
    ['EXPKEYSIG', 'it is signed with an expired key'],
    ['REVKEYSIG', 'it is signed with a revoked key'],
  ] as const) {
    const value = status.get(code);
    if (value !== undefined) return { trusted: false, why, ...keyAndUser(value) };
  }
  if (status.has('EXPSIG')) return { trusted: false, why: 'its signature has expired', ...keyAndUser(status.get('EXPSIG')!) };
  const error = status.get('ERRSIG');
  if (error !== undefined) {
    // ERRSIG <keyid> <pkalgo> <hashalgo> <class> <time> <rc> [<fpr>]; rc 9: no public key.
    const fields = error.split(' ');
    const key = fields[6] || fields[0]!;
    const why = status.has('NO_PUBKEY') || fields[5] === '9' ? 'its key is not in source.verify.keyring' : `its signature cannot be checked (gpg error ${fields[5] ?? '?'})`;
    return { trusted: false, why, key, ...(claimed ? { signer: claimed } : {}) };
  }
  const good = status.get('GOODSIG');
  const valid = status.get('VALIDSIG');
  if (good !== undefined && valid !== undefined && exitCode === 0) {
    // VALIDSIG <fpr> ... <primary-key-fpr>: the primary key is the one the keyring holds.
    const fields = valid.split(' ');
    return { trusted: true, signer: keyAndUser(good).signer ?? fields[0]!, key: fields.at(-1) || fields[0]! };
  }
  return undefined;
}
