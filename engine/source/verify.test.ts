import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TestRepo } from '../../testkit/git-repo.ts';
import { gpgKey, gpgTrust, sshKey, sshTrust } from '../../testkit/signing.ts';
import { silentLogger } from '../log.ts';
import { GitSource } from './git-source.ts';
import { CommitVerifier, describeUntrusted, type VerifySettings } from './verify.ts';

const scratch = mkdtempSync(join(tmpdir(), 'plumbline-verify-'));
const cleanups: Array<() => void> = [];
after(() => {
  for (const c of cleanups.reverse()) c();
  rmSync(scratch, { recursive: true, force: true });
});

let count = 0;
/** A repository, the daemon's mirror of it, and a verifier with its own state folder. */
function setup(settings: VerifySettings & { mode: 'ssh' | 'gpg' }) {
  const root = join(scratch, `case-${++count}`);
  const repo = new TestRepo(join(root, 'repo'));
  const state = join(root, 'state', 'source');
  const source = new GitSource({ url: repo.url, branch: 'main', mirrorDir: join(state, 'mirror.git'), snapshotsDir: join(root, 'snapshots'), log: silentLogger });
  const verifier = new CommitVerifier({ settings, source, dir: state, log: silentLogger });
  return { repo, source, verifier, state };
}

/** A commit whose message was changed after signing: its signature no longer matches. */
function pushTampered(repo: TestRepo): string {
  const git = (args: string[], input?: string) => execFileSync('git', ['-C', repo.work, ...args], { encoding: 'utf8', input }).trim();
  const object = git(['cat-file', 'commit', 'HEAD']).replace(/\n\n[^]*$/, '\n\nsomething else entirely\n');
  const forged = git(['hash-object', '-t', 'commit', '-w', '--stdin'], object);
  git(['update-ref', 'refs/heads/main', forged]);
  git(['push', '--quiet', '--force', 'origin', 'HEAD:main']);
  return forged;
}

describe('ssh mode', () => {
  const { alice, mallory, file: allowedSigners, trust } = sshTrust(join(scratch, 'ssh-keys'));
  const { repo, source, verifier } = setup({ mode: 'ssh', allowedSigners, keyring: null, allCommits: false });

  test('a head signed by an allowed key is trusted; unsigned and unknown keys are not, naming the commit and key', async () => {
    const signed = repo.commit({ 'a.txt': '1' }, 'signed by alice', alice.signer);
    assert.equal(await source.fetch(), signed);
    assert.deepEqual(await verifier.untrusted(signed, null), []);

    const unsigned = repo.commit({ 'a.txt': '2' }, 'unsigned change');
    await source.fetch();
    const [first, ...rest] = await verifier.untrusted(unsigned, signed);
    assert.equal(rest.length, 0);
    assert.deepEqual(first, { commit: unsigned, subject: 'unsigned change', committer: 'Plumbline test <test@plumbline.invalid>', why: 'it is not signed' });

    const foreign = repo.commit({ 'a.txt': '3' }, 'signed by mallory', mallory.signer);
    await source.fetch();
    const [untrusted] = await verifier.untrusted(foreign, signed);
    assert.equal(untrusted?.commit, foreign);
    assert.equal(untrusted?.key, mallory.fingerprint);
    const message = describeUntrusted([untrusted!], { allCommits: false, since: signed });
    assert.match(message, new RegExp(`${foreign.slice(0, 8)} \\("signed by mallory".*signed with key ${mallory.fingerprint.replace(/[+/]/g, '\\$&')}\\): its key is not in source.verify.allowedSigners`));
  });

  test('a signature that does not match its commit is untrusted', async () => {
    repo.commit({ 'a.txt': '4' }, 'signed, then altered', alice.signer);
    const forged = pushTampered(repo);
    await source.fetch();
    const [untrusted] = await verifier.untrusted(forged, null);
    assert.equal(untrusted?.commit, forged);
    assert.match(untrusted!.why, /does not verify/);
  });

  test('an OpenPGP signature is refused in ssh mode without running gpg', async () => {
    const gpgSigner = gpgKey(join(scratch, 'gpg-in-ssh'), 'Alice', 'alice@example.com');
    cleanups.push(gpgSigner.dispose);
    const head = repo.commit({ 'a.txt': '5' }, 'pgp in ssh mode', gpgSigner.signer);
    await source.fetch();
    const [untrusted] = await verifier.untrusted(head, null);
    assert.equal(untrusted?.why, 'it carries an OpenPGP signature, and source.verify.mode is ssh');
  });

  test('the allowed signers are copied privately, and a change to them is noticed without a process', async () => {
    const head = repo.commit({ 'a.txt': '6' }, 'mallory again', mallory.signer);
    await source.fetch();
    assert.equal((await verifier.untrusted(head, null)).length, 1);
    assert.equal(await verifier.trustChanged(), false);
    trust(alice, mallory);
    assert.equal(await verifier.trustChanged(), true);
    assert.deepEqual(await verifier.untrusted(head, null), []);
    assert.equal(await verifier.trustChanged(), false);
    trust(alice);
  });
});

describe('ssh mode, allCommits', () => {
  const { alice, file: allowedSigners } = sshTrust(join(scratch, 'ssh-keys-all'));
  const { repo, source, verifier } = setup({ mode: 'ssh', allowedSigners, keyring: null, allCommits: true });

  test('an unsigned commit behind a signed head is caught, and only commits since the last reconciled one count', async () => {
    const old = repo.commit({ 'old.txt': 'history before verification' }, 'old unsigned history');
    const base = repo.commit({ 'a.txt': '1' }, 'base', alice.signer);
    const sneaked = repo.commit({ 'a.txt': '2' }, 'sneaked in');
    const head = repo.commit({ 'a.txt': '3' }, 'signed on top', alice.signer);
    await source.fetch();
    const untrusted = await verifier.untrusted(head, base);
    assert.deepEqual(
      untrusted.map((u) => [u.commit, u.why]),
      [[sneaked, 'it is not signed']],
    );
    assert.match(describeUntrusted(untrusted, { allCommits: true, since: base }), new RegExp(`every commit since ${base.slice(0, 8)} is trusted`));
    // Without a last reconciled commit (the first poll), the head alone.
    assert.deepEqual(await verifier.untrusted(head, null), []);
    // A head rewound behind the last reconciled commit (sync --allow-rewrite) is still checked.
    assert.deepEqual((await verifier.untrusted(old, base)).map((u) => u.commit), [old]);
  });

  test('merged branches count: an unsigned commit reached only through a merge parent is caught', async () => {
    const base = repo.head();
    const git = (args: string[], signer = alice.signer) =>
      execFileSync('git', ['-C', repo.work, ...Object.entries(signer.config).flatMap(([k, v]) => ['-c', `${k}=${v}`]), ...args], {
        env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' },
      });
    git(['checkout', '--quiet', '-b', 'side']);
    execFileSync('git', ['-C', repo.work, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '--quiet', '--allow-empty', '-m', 'unsigned on a side branch']);
    const side = execFileSync('git', ['-C', repo.work, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    git(['checkout', '--quiet', 'main']);
    repo.commit({ 'a.txt': '4' }, 'signed on main', alice.signer);
    git(['merge', '--quiet', '--no-ff', '-S', '-m', 'signed merge', 'side']);
    git(['push', '--quiet', 'origin', 'HEAD:main']);
    const head = await source.fetch();
    assert.deepEqual((await verifier.untrusted(head, base)).map((u) => u.commit), [side]);
  });
});

describe('gpg mode', () => {
  const people = gpgTrust(join(scratch, 'gpg'));
  cleanups.push(people.dispose);
  const { alice, mallory, file: keyring, trust } = people;
  const { repo, source, verifier, state } = setup({ mode: 'gpg', allowedSigners: null, keyring, allCommits: false });

  test('a key of the keyring is trusted; another key is not, even one in the daemon user’s own GnuPG home', async () => {
    const signed = repo.commit({ 'a.txt': '1' }, 'alice signs', alice.signer);
    await source.fetch();
    assert.deepEqual(await verifier.untrusted(signed, null), []);
    const home = join(state, 'gnupg');
    assert.equal(statSync(home).mode & 0o777, 0o700);

    const foreign = repo.commit({ 'a.txt': '2' }, 'mallory signs', mallory.signer);
    await source.fetch();
    const previous = process.env.GNUPGHOME;
    process.env.GNUPGHOME = mallory.signer.env!.GNUPGHOME; // the daemon user's personal home trusts mallory: it must not matter
    try {
      const [untrusted] = await verifier.untrusted(foreign, null);
      assert.equal(untrusted?.commit, foreign);
      assert.equal(untrusted?.signer, 'mallory@example.com');
      assert.equal(untrusted?.key, mallory.fingerprint);
      assert.equal(untrusted?.why, 'its key is not in source.verify.keyring');
    } finally {
      if (previous === undefined) delete process.env.GNUPGHOME;
      else process.env.GNUPGHOME = previous;
    }
  });

  test('the keyring is imported again when it changes: keys added and removed', async () => {
    const head = repo.head();
    trust(alice, mallory);
    assert.equal(await verifier.trustChanged(), true);
    assert.deepEqual(await verifier.untrusted(head, null), []);
    trust(alice);
    assert.equal((await verifier.untrusted(head, null)).length, 1, 'a key removed from the file is no longer trusted');
  });

  test('a keyring with no key is an error of the config, not an untrusted commit', async () => {
    writeFileSync(keyring, 'not a key\n');
    await assert.rejects(verifier.untrusted(repo.head(), null), (e: { code: string; retry: string }) => e.code === 'E_VERIFY_KEYRING' && e.retry === 'waiting');
    trust(alice);
  });
});

describe('checks that cannot be made', () => {
  test('a missing trust file is waiting, and a verifier that cannot run is transient: never "untrusted"', async () => {
    const keys = join(scratch, 'broken');
    const alice = sshKey(keys, 'alice');
    const allowedSigners = join(keys, 'allowed_signers');
    const { repo, source, verifier } = setup({ mode: 'ssh', allowedSigners, keyring: null, allCommits: false });
    const head = repo.commit({ 'a.txt': '1' }, 'signed', alice.signer);
    await source.fetch();
    await assert.rejects(verifier.untrusted(head, null), (e: { code: string; retry: string }) => e.code === 'E_VERIFY_TRUST_FILE' && e.retry === 'waiting');

    writeFileSync(allowedSigners, `${alice.allowedSigner}\n`);
    // A PATH where git is found and ssh-keygen is not.
    const bin = join(keys, 'bin');
    mkdirSync(bin);
    symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), join(bin, 'git'));
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      await assert.rejects(verifier.untrusted(head, null), (e: { code: string; retry: string; message: string }) => {
        assert.equal(e.code, 'E_VERIFY_FAILED');
        assert.equal(e.retry, 'transient');
        assert.match(e.message, /ssh-keygen/);
        return true;
      });
    } finally {
      process.env.PATH = path;
    }
    assert.deepEqual(await verifier.untrusted(head, null), [], 'trusted once ssh-keygen is back');
    assert.equal(existsSync(join(keys, 'bin', 'ssh-keygen')), false);
  });
});
