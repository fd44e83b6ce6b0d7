import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { StatusAnswer } from '../engine/api/contract.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { gpgTrust, sshTrust } from '../testkit/signing.ts';
import { helloStack } from '../testkit/terraform.ts';

/**
 * source.verify with the real daemon: commits signed with real keys (made by
 * ssh-keygen and gpg), verified by git. Only trusted heads are planned; an
 * untrusted one stalls the source, naming the commit and its signer.
 */

const scratch = mkdtempSync(join(tmpdir(), 'plumbline-signed-'));
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(scratch, { recursive: true, force: true });
});

type Metrics = { processes: Record<string, number> };

async function source(daemon: TestDaemon): Promise<StatusAnswer['source']> {
  return (await daemon.status()).source;
}

async function stalledEvents(daemon: TestDaemon, revision: string): Promise<number> {
  return (await daemon.history()).filter((e) => e.type === 'source-stalled' && e.revision === revision).length;
}

/** What one sync costs in processes the daemon starts, by tool. */
async function processesOfOneSync(daemon: TestDaemon): Promise<Record<string, number>> {
  const before = (await daemon.api<Metrics>('/api/v1/metrics')).body.processes;
  await daemon.sync();
  const after = (await daemon.api<Metrics>('/api/v1/metrics')).body.processes;
  return Object.fromEntries(Object.keys(after).flatMap((tool) => (after[tool] === before[tool] ? [] : [[tool, after[tool]! - (before[tool] ?? 0)]])));
}

describe('ssh mode: the head must be signed by an allowed key', () => {
  const { alice, mallory, file: allowedSigners, trust } = sshTrust(join(scratch, 'ssh'));
  const repo = new TestRepo(join(scratch, 'ssh-repo'));
  cleanups.push(() => repo.dispose());
  let daemon: TestDaemon;
  let trusted: string;

  test('a signed head is planned and applied; an idle poll is still one fetch', async () => {
    trusted = repo.commit(helloStack({ name: 'web', value: 'signed-one', approval: 'auto' }), 'first, signed', alice.signer);
    daemon = await TestDaemon.start({ sourceUrl: repo.url, sourceConfig: `  verify:\n    mode: ssh\n    allowedSigners: ${allowedSigners}` });
    cleanups.push(() => daemon.dispose());
    await daemon.waitForUnit('web', 'InSync', { revision: trusted });
    assert.equal((await source(daemon)).phase, 'Ready');
    assert.deepEqual(await processesOfOneSync(daemon), { git: 1 }, 'nothing new: one fetch, no verification');
  });

  test('an unsigned head stalls the source, naming the commit; nothing of it is planned', async () => {
    const unsigned = repo.commit(helloStack({ name: 'web', value: 'unsigned', approval: 'auto' }), 'pushed without a signature');
    const answer = await daemon.sync();
    assert.deepEqual(answer.scheduled, []);
    const status = await source(daemon);
    assert.equal(status.phase, 'Stalled');
    assert.equal(status.reason, 'UntrustedCommit');
    assert.match(status.message, new RegExp(`${unsigned.slice(0, 8)} \\("pushed without a signature", committed by Plumbline test <test@plumbline.invalid>\\): it is not signed`));
    assert.equal(status.lastReconciledRevision, trusted);
    const unit = await daemon.unit('web');
    assert.equal(unit?.lastAttemptedRevision, trusted, 'the unit was not planned at the untrusted commit');
    assert.ok((await daemon.plans('web')).every((p) => p.revision !== unsigned));
    // Polled again: no new event, and no check again (nothing changed).
    assert.deepEqual(await processesOfOneSync(daemon), { git: 1 });
    assert.equal(await stalledEvents(daemon, unsigned), 1, 'one source-stalled event per head');
    assert.equal(daemon.cli(['status']).code, 0);
  });

  test('a head signed by a key nobody allowed stalls, naming the key', async () => {
    const foreign = repo.commit(helloStack({ name: 'web', value: 'mallory', approval: 'auto' }), 'signed by mallory', mallory.signer);
    await daemon.sync();
    const status = await source(daemon);
    assert.equal(status.reason, 'UntrustedCommit');
    assert.ok(status.message.includes(`${foreign.slice(0, 8)} ("signed by mallory"`), status.message);
    assert.ok(status.message.includes(`signed with key ${mallory.fingerprint}): its key is not in source.verify.allowedSigners`), status.message);
    assert.equal(await stalledEvents(daemon, foreign), 1);
    assert.equal((await daemon.unit('web'))?.lastAttemptedRevision, trusted);
  });

  test('a trusted head on top recovers the source without --allow-rewrite, and is planned', async () => {
    const next = repo.commit(helloStack({ name: 'web', value: 'signed-two', approval: 'auto' }), 'second, signed', alice.signer);
    const answer = await daemon.sync();
    assert.deepEqual(answer.scheduled, ['web']);
    const status = await source(daemon);
    assert.equal(status.phase, 'Ready');
    assert.equal(status.lastReconciledRevision, next);
    await daemon.waitForUnit('web', 'InSync', { revision: next });
  });

  test('trusting the key of a stalled head lets it through at the next poll, with no new commit', async () => {
    const foreign = repo.commit(helloStack({ name: 'web', value: 'mallory-trusted', approval: 'auto' }), 'mallory again', mallory.signer);
    await daemon.sync();
    assert.equal((await source(daemon)).reason, 'UntrustedCommit');
    trust(alice, mallory);
    assert.deepEqual((await daemon.sync()).scheduled, ['web']);
    assert.equal((await source(daemon)).phase, 'Ready');
    await daemon.waitForUnit('web', 'InSync', { revision: foreign });
  });

  test('a restart keeps an untrusted head stalled, without a second event', async () => {
    const applied = (await daemon.unit('web'))?.lastAppliedRevision;
    const unsigned = repo.commit(helloStack({ name: 'web', value: 'unsigned-again', approval: 'auto' }), 'unsigned again');
    await daemon.sync();
    assert.equal((await source(daemon)).reason, 'UntrustedCommit');
    assert.equal(await daemon.stop(), 0);
    daemon = await TestDaemon.start({ sourceUrl: repo.url, stateDir: daemon.stateDir, sourceConfig: `  verify:\n    mode: ssh\n    allowedSigners: ${allowedSigners}` });
    cleanups.push(() => daemon.dispose());
    await daemon.sync();
    const status = await source(daemon);
    assert.equal(status.phase, 'Stalled');
    assert.equal(status.reason, 'UntrustedCommit');
    assert.ok(status.message.includes(unsigned.slice(0, 8)), status.message);
    assert.equal(await stalledEvents(daemon, unsigned), 1);
    assert.equal((await daemon.unit('web'))?.lastAppliedRevision, applied);
  });
});

describe('ssh mode, allCommits: every new commit must be trusted', () => {
  const { alice, file: allowedSigners } = sshTrust(join(scratch, 'ssh-all'));
  const repo = new TestRepo(join(scratch, 'ssh-all-repo'));
  cleanups.push(() => repo.dispose());

  test('an unsigned commit behind a signed head stalls, naming it; signing it again recovers', async () => {
    const base = repo.commit(helloStack({ name: 'db', value: 'base', approval: 'auto' }), 'base, signed', alice.signer);
    const daemon = await TestDaemon.start({
      sourceUrl: repo.url,
      sourceConfig: `  verify:\n    mode: ssh\n    allowedSigners: ${allowedSigners}\n    allCommits: true`,
    });
    cleanups.push(() => daemon.dispose());
    await daemon.waitForUnit('db', 'InSync', { revision: base });

    const sneaked = repo.commit(helloStack({ name: 'db', value: 'sneaked', approval: 'auto' }), 'sneaked in unsigned');
    const head = repo.commit(helloStack({ name: 'db', value: 'covered', approval: 'auto' }), 'signed on top', alice.signer);
    assert.deepEqual((await daemon.sync()).scheduled, []);
    const status = await source(daemon);
    assert.equal(status.reason, 'UntrustedCommit');
    assert.ok(status.message.includes(`${sneaked.slice(0, 8)} ("sneaked in unsigned"`), status.message);
    assert.ok(!status.message.includes(head.slice(0, 8)), 'the signed head is not named');
    assert.ok(status.message.includes(`every commit since ${base.slice(0, 8)} is trusted`), status.message);
    assert.equal(await stalledEvents(daemon, head), 1);

    // The same changes, signed again on top of the last reconciled commit: a fast-forward from it.
    repo.resetTo(base);
    const resigned = repo.commit(helloStack({ name: 'db', value: 'covered', approval: 'auto' }), 'signed again', alice.signer);
    assert.deepEqual((await daemon.sync()).scheduled, ['db']);
    assert.equal((await source(daemon)).phase, 'Ready');
    await daemon.waitForUnit('db', 'InSync', { revision: resigned });
  });
});

describe('gpg mode: a keyring of Plumbline’s own', () => {
  const people = gpgTrust(join(scratch, 'gpg'));
  cleanups.push(people.dispose);
  const { alice, mallory, file: keyring } = people;
  const repo = new TestRepo(join(scratch, 'gpg-repo'));
  cleanups.push(() => repo.dispose());

  test('a head signed by a keyring key is planned; another key stalls, naming signer and key; a trusted head recovers', async () => {
    const first = repo.commit(helloStack({ name: 'app', value: 'one', approval: 'auto' }), 'alice signs', alice.signer);
    const daemon = await TestDaemon.start({ sourceUrl: repo.url, sourceConfig: `  verify:\n    mode: gpg\n    keyring: ${keyring}` });
    cleanups.push(() => daemon.dispose());
    await daemon.waitForUnit('app', 'InSync', { revision: first });

    const foreign = repo.commit(helloStack({ name: 'app', value: 'two', approval: 'auto' }), 'mallory signs', mallory.signer);
    assert.deepEqual((await daemon.sync()).scheduled, []);
    const status = await source(daemon);
    assert.equal(status.reason, 'UntrustedCommit');
    assert.ok(status.message.includes(`${foreign.slice(0, 8)} ("mallory signs"`), status.message);
    assert.ok(status.message.includes(`signed by mallory@example.com (key ${mallory.fingerprint})): its key is not in source.verify.keyring`), status.message);
    assert.equal((await daemon.unit('app'))?.lastAttemptedRevision, first);

    const unsigned = repo.commit(helloStack({ name: 'app', value: 'three', approval: 'auto' }), 'no signature');
    await daemon.sync();
    assert.match((await source(daemon)).message, new RegExp(`${unsigned.slice(0, 8)} .*: it is not signed`));

    const next = repo.commit(helloStack({ name: 'app', value: 'four', approval: 'auto' }), 'alice signs again', alice.signer);
    assert.deepEqual((await daemon.sync()).scheduled, ['app']);
    assert.equal((await source(daemon)).phase, 'Ready');
    await daemon.waitForUnit('app', 'InSync', { revision: next });
  });
});
