import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gpgVerdict, parseRawCommits, sshVerdict } from './signatures.ts';

// Recorded from git 2.39.5 (`git rev-list --format=raw`, `git verify-commit --raw`),
// OpenSSH 9.2 and GnuPG 2.2.40.

const RAW = `commit c0c0e23ba68cabdfdcf46bf63425ee5024e4f61c
tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904
parent bddedf1776ea965f24fe9f2f28b0c4350b337f88
author A <a@x> 1796043659 +0000
committer A <a@x> 1796043659 +0000

    unsigned
    commit 4358404a9d6225854ca3db54470bfc4730750b2c
    gpgsig -----BEGIN SSH SIGNATURE-----

commit bddedf1776ea965f24fe9f2f28b0c4350b337f88
tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904
parent 4358404a9d6225854ca3db54470bfc4730750b2c
author A <a@x> 1796043659 +0000
committer Mallory Example <mal@example.com> 1796043659 +0200
gpgsig -----BEGIN SSH SIGNATURE-----
 U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg/PLuR/UCB0d6Xqz55A+Un+wlhm
 TN8g4DaPhxiZXFqEVgnQo=
 -----END SSH SIGNATURE-----

    mal

commit ca624cc0a0e0d8a4b0b7d7c5d1d8ff0c8e0f5e41
tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904
author A <a@x> 1796043720 +0000
committer A <a@x> 1796043720 +0000
gpgsig -----BEGIN PGP SIGNATURE-----
 
 iHUEABYKAB0WIQRoKBxJbYcf7ChqYid7nD2SrW9tiwUCaSwNSAAKCRB7nD2SrW9t
 -----END PGP SIGNATURE-----

    gpg-alice
    
    A body line.
`;

test('raw commits: signature kind, committer and subject; a message never passes for a header', () => {
  assert.deepEqual(parseRawCommits(RAW), [
    { sha: 'c0c0e23ba68cabdfdcf46bf63425ee5024e4f61c', signature: null, committer: 'A <a@x>', subject: 'unsigned' },
    { sha: 'bddedf1776ea965f24fe9f2f28b0c4350b337f88', signature: 'ssh', committer: 'Mallory Example <mal@example.com>', subject: 'mal' },
    { sha: 'ca624cc0a0e0d8a4b0b7d7c5d1d8ff0c8e0f5e41', signature: 'openpgp', committer: 'A <a@x>', subject: 'gpg-alice' },
  ]);
});

test('raw commits: X.509, unknown armor, and gpgsig-sha256 of SHA-256 repositories', () => {
  const sha256 = 'a'.repeat(64);
  const text = [
    `commit ${'1'.repeat(40)}\ngpgsig -----BEGIN SIGNED MESSAGE-----\n -----END SIGNED MESSAGE-----\n\n    x\n`,
    `commit ${'2'.repeat(40)}\ngpgsig something else\n\n    y\n`,
    `commit ${sha256}\ngpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n\n    z\n`,
    // git reads only the header of its own object names: this one counts as unsigned.
    `commit ${'3'.repeat(40)}\ngpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n\n    w\n`,
  ].join('\n');
  assert.deepEqual(
    parseRawCommits(text).map((c) => [c.sha.slice(0, 4), c.signature]),
    [
      ['1111', 'x509'],
      ['2222', 'unknown'],
      ['aaaa', 'ssh'],
      ['3333', null],
    ],
  );
});

test('ssh: a good signature of an allowed principal is trusted', () => {
  const output = 'Good "git" signature for alice@example with ED25519 key SHA256:uvMaWNeyY9+fHDiSeJNWrcSvK7PAXesv6qPOmvlxykU\n';
  assert.deepEqual(sshVerdict(0, output), { trusted: true, signer: 'alice@example', key: 'SHA256:uvMaWNeyY9+fHDiSeJNWrcSvK7PAXesv6qPOmvlxykU' });
  // As git does: the principal runs to the last " with ".
  assert.deepEqual(sshVerdict(0, 'Good "git" signature for ops with keys with ED25519 key SHA256:x\n'), { trusted: true, signer: 'ops with keys', key: 'SHA256:x' });
  // The same line with a failing exit is no answer.
  assert.equal(sshVerdict(1, output), undefined);
});

test('ssh: a key no principal names, an expired principal and a broken signature are untrusted', () => {
  assert.deepEqual(sshVerdict(1, 'Good "git" signature with ED25519 key SHA256:26MwsJ+A2PLEOxN/GDrIy/IqP3bKa8UDwzT4Zwa8sZk\nNo principal matched.\n'), {
    trusted: false,
    why: 'its key is not in source.verify.allowedSigners',
    key: 'SHA256:26MwsJ+A2PLEOxN/GDrIy/IqP3bKa8UDwzT4Zwa8sZk',
  });
  const expired = sshVerdict(
    1,
    'Good "git" signature with ED25519 key SHA256:uvMa\n/etc/plumbline/allowed_signers:1: key has expired: verify time 2026-11-30T13:00:59 > valid-before 2020-01-01T00:00:00\nNo principal matched.\n',
  );
  assert.equal(expired?.trusted, false);
  assert.match(expired && !expired.trusted ? expired.why : '', /outside the validity/);
  assert.deepEqual(sshVerdict(1, 'Could not verify signature.\nSignature verification failed: incorrect signature\n'), {
    trusted: false,
    why: 'its signature does not verify (incorrect signature)',
  });
});

test('ssh: a verifier that did not run is no answer, never "untrusted"', () => {
  assert.equal(sshVerdict(1, 'fatal: cannot run ssh-keygen: No such file or directory\n'), undefined);
  assert.equal(sshVerdict(1, ''), undefined);
  assert.equal(sshVerdict(1, "Couldn't load public key: invalid format\n"), undefined);
});

const GPG_GOOD = `[GNUPG:] NEWSIG alice@example.com
[GNUPG:] KEY_CONSIDERED 68281C496D871FEC286A62277B9C3D92AD6F6D8B 0
[GNUPG:] SIG_ID miOmHDE4pbv20knOJDQCck7iNtE 2026-11-30 1796043720
[GNUPG:] KEY_CONSIDERED 68281C496D871FEC286A62277B9C3D92AD6F6D8B 0
[GNUPG:] GOODSIG 7B9C3D92AD6F6D8B Alice <alice@example.com>
[GNUPG:] VALIDSIG 68281C496D871FEC286A62277B9C3D92AD6F6D8B 2026-11-30 1796043720 0 4 0 22 8 00 68281C496D871FEC286A62277B9C3D92AD6F6D8B
[GNUPG:] KEY_CONSIDERED 68281C496D871FEC286A62277B9C3D92AD6F6D8B 0
[GNUPG:] TRUST_UNDEFINED 0 pgp
`;

test('gpg: GOODSIG and VALIDSIG of a key in the keyring are trusted', () => {
  assert.deepEqual(gpgVerdict(0, GPG_GOOD), { trusted: true, signer: 'Alice <alice@example.com>', key: '68281C496D871FEC286A62277B9C3D92AD6F6D8B' });
  assert.equal(gpgVerdict(1, GPG_GOOD), undefined, 'git refused it after all: no answer');
});

test('gpg: a key the keyring lacks, a bad, expired or revoked signature are untrusted', () => {
  const missing = `[GNUPG:] NEWSIG mal@example.com
[GNUPG:] ERRSIG D5C7F879837C1F96 22 8 00 1796043720 9 0A53B8ED00046A7A048CBD91D5C7F879837C1F96
[GNUPG:] NO_PUBKEY D5C7F879837C1F96
`;
  assert.deepEqual(gpgVerdict(1, missing), {
    trusted: false,
    why: 'its key is not in source.verify.keyring',
    key: '0A53B8ED00046A7A048CBD91D5C7F879837C1F96',
    signer: 'mal@example.com',
  });
  assert.deepEqual(gpgVerdict(1, '[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 7B9C3D92AD6F6D8B Alice <alice@example.com>\n'), {
    trusted: false,
    why: 'its signature does not match its content',
    key: '7B9C3D92AD6F6D8B',
    signer: 'Alice <alice@example.com>',
  });
  assert.equal((gpgVerdict(0, '[GNUPG:] EXPKEYSIG 7B9C3D92AD6F6D8B Alice <a@x>\n[GNUPG:] VALIDSIG AB 0 0 0 4 0 22 8 00 AB\n') as { why: string }).why, 'it is signed with an expired key');
  assert.equal((gpgVerdict(1, '[GNUPG:] REVKEYSIG 7B9C3D92AD6F6D8B Alice <a@x>\n') as { why: string }).why, 'it is signed with a revoked key');
  assert.match((gpgVerdict(1, '[GNUPG:] ERRSIG D5C7F879837C1F96 99 8 00 1796043720 4\n') as { why: string }).why, /cannot be checked \(gpg error 4\)/);
});

test('gpg: no status line at all is no answer', () => {
  assert.equal(gpgVerdict(1, 'error: cannot run gpg: No such file or directory\n'), undefined);
  assert.equal(gpgVerdict(1, 'gpg: keyblock resource \'/x/pubring.kbx\': Permission denied\n'), undefined);
});
