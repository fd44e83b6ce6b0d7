import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TestRepo } from '../../testkit/git-repo.ts';
import { processCounts } from '../exec.ts';
import { silentLogger } from '../log.ts';
import { GitSource, redactUrl } from './git-source.ts';

const repo = new TestRepo();
const state = mkdtempSync(join(tmpdir(), 'plumbline-source-'));
after(() => {
  repo.dispose();
  rmSync(state, { recursive: true, force: true });
});
const source = new GitSource({ url: repo.url, branch: 'main', mirrorDir: join(state, 'mirror.git'), snapshotsDir: join(state, 'snapshots'), log: silentLogger });

const gitProcesses = () => processCounts.get('git') ?? 0;

test('a poll with nothing new costs exactly one git process', async () => {
  const first = repo.commit({ 'stacks/a/main.tf': 'a' });
  assert.equal(await source.fetch(), first);
  const before = gitProcesses();
  assert.equal(await source.fetch(), first);
  assert.equal(gitProcesses() - before, 1);
});

test('changed paths, ancestry and snapshots of single commits', async () => {
  const first = repo.head();
  const second = repo.commit({ 'stacks/b/main.tf': 'b', 'stacks/a/main.tf': null });
  assert.equal(await source.fetch(), second);
  assert.deepEqual((await source.changedPaths(first, second)).sort(), ['stacks/a/main.tf', 'stacks/b/main.tf']);
  assert.equal(await source.isAncestor(first, second), true);
  assert.equal(await source.isAncestor(second, first), false);
  const snap1 = await source.snapshot(first);
  const snap2 = await source.snapshot(second);
  assert.equal(readFileSync(join(snap1, 'stacks/a/main.tf'), 'utf8'), 'a');
  assert.equal(existsSync(join(snap2, 'stacks/a/main.tf')), false);
  assert.equal(readFileSync(join(snap2, 'stacks/b/main.tf'), 'utf8'), 'b');
  // Concurrent requests for one snapshot share one extraction.
  const [x, y] = await Promise.all([source.snapshot(second), source.snapshot(second)]);
  assert.equal(x, y);
});

test('a force-push is visible as a non-descendant head', async () => {
  const before = repo.head();
  const rewritten = repo.rewriteLast({ 'stacks/c/main.tf': 'c' });
  assert.equal(await source.fetch(), rewritten);
  assert.equal(await source.isAncestor(before, rewritten), false);
  assert.equal(await source.hasCommit(before), true);
});

test('a missing branch and an unreachable URL are typed errors', async () => {
  const other = new GitSource({ url: repo.url, branch: 'nope', mirrorDir: join(state, 'm2.git'), snapshotsDir: join(state, 's2'), log: silentLogger });
  await assert.rejects(other.fetch(), (e: { code: string }) => e.code === 'E_GIT_FETCH' || e.code === 'E_GIT_NO_BRANCH');
  const gone = new GitSource({ url: 'file:///nonexistent/repo.git', branch: 'main', mirrorDir: join(state, 'm3.git'), snapshotsDir: join(state, 's3'), log: silentLogger });
  await assert.rejects(gone.fetch(), (e: { code: string; retry: string }) => e.code === 'E_GIT_FETCH' && e.retry === 'transient');
});

test('credentials in a URL are redacted', () => {
  assert.equal(redactUrl('https://bot:s3cr3t-token@git.example/infra.git'), 'https://***:***@git.example/infra.git');
  assert.equal(redactUrl('https://ghp_abcdefgh1234@git.example/infra.git'), 'https://***@git.example/infra.git');
  assert.equal(redactUrl('ssh://git@git.example/infra.git'), 'ssh://git@git.example/infra.git');
});
