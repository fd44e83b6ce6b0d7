import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
  assert.equal(await source.lineage(first, second), 'descends');
  assert.equal(await source.lineage(second, first), 'diverged');
  assert.equal(await source.lineage(second, second), 'descends');
  const snap1 = await source.snapshot(first);
  const snap2 = await source.snapshot(second);
  assert.equal(readFileSync(join(snap1, 'stacks/a/main.tf'), 'utf8'), 'a');
  assert.equal(existsSync(join(snap2, 'stacks/a/main.tf')), false);
  assert.equal(readFileSync(join(snap2, 'stacks/b/main.tf'), 'utf8'), 'b');
  // Concurrent requests for one snapshot share one extraction.
  const [x, y] = await Promise.all([source.snapshot(second), source.snapshot(second)]);
  assert.equal(x, y);
});

/** Every entry below `root`: its type, permission bits and content (a link's target). */
function treeOf(root: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const visit = (path: string) => {
    for (const name of readdirSync(join(root, path)).sort()) {
      const rel = path ? `${path}/${name}` : name;
      const info = lstatSync(join(root, rel));
      const mode = (info.mode & 0o777).toString(8);
      if (info.isSymbolicLink()) entries[rel] = `link ${readlinkSync(join(root, rel))}`;
      else if (info.isDirectory()) {
        entries[rel] = `dir ${mode}`;
        visit(rel);
      } else entries[rel] = `file ${mode} ${readFileSync(join(root, rel), 'utf8')}`;
    }
  };
  visit('');
  return entries;
}

test('a snapshot made from the previous one is the tree a whole extraction gives, and leaves the previous one as it was', async () => {
  const fresh = new GitSource({ url: repo.url, branch: 'main', mirrorDir: join(state, 'fresh.git'), snapshotsDir: join(state, 'fresh'), log: silentLogger });
  const base = repo.commit({
    'stacks/a/main.tf': 'a1',
    'stacks/a/stack.yaml': 'kind: terraform\n',
    'stacks/gone/main.tf': 'g',
    'stacks/gone/deep/x.tf': 'x',
    'modules/net/main.tf': 'n1',
    'scripts/run.sh': 'echo',
    'shared/file': 'f',
    'thing/inside.txt': 'i',
  });
  symlinkSync('../../modules/net', join(repo.work, 'stacks/a/net'));
  symlinkSync('../../modules', join(repo.work, 'stacks/a/kept-link'));
  const withLink = repo.commit({});
  await source.fetch();
  const baseDir = await source.snapshot(withLink, { base });
  const before = treeOf(baseDir);
  // Changed, added, removed (a whole unit, its folders with it), a mode, a link's target, a file becoming a folder and back.
  chmodSync(join(repo.work, 'scripts/run.sh'), 0o755);
  rmSync(join(repo.work, 'stacks/a/net'));
  symlinkSync('../../shared', join(repo.work, 'stacks/a/net'));
  rmSync(join(repo.work, 'thing'), { recursive: true });
  const next = repo.commit({
    'stacks/a/main.tf': 'a2',
    'stacks/b/main.tf': 'b',
    'stacks/gone': null,
    'shared/file': null,
    'shared/file/now-a-folder': 'd',
    thing: 'now a file',
  });
  await source.fetch();
  await fresh.fetch();
  const tars = processCounts.get('tar') ?? 0;
  const made = await source.snapshot(next, { base: withLink });
  assert.equal((processCounts.get('tar') ?? 0) - tars, 0, 'the changed files are written without a tar process');
  const whole = await fresh.snapshot(next);
  assert.deepEqual(treeOf(made), treeOf(whole));
  for (const path of ['stacks/a/main.tf', 'shared/file/now-a-folder', 'shared/file', 'thing']) {
    assert.equal(statSync(join(made, path)).mtimeMs, statSync(join(whole, path)).mtimeMs, `${path}: the commit's time, as a whole extraction gives`);
  }
  assert.deepEqual(treeOf(baseDir), before, 'the previous snapshot is unchanged');
  // Unchanged files are shared with the previous snapshot (hard links), not extracted again.
  assert.equal(statSync(join(made, 'modules/net/main.tf')).ino, statSync(join(baseDir, 'modules/net/main.tf')).ino);
  assert.notEqual(statSync(join(made, 'stacks/a/main.tf')).ino, statSync(join(baseDir, 'stacks/a/main.tf')).ino);
  assert.equal(existsSync(join(made, 'stacks/gone')), false);
});

test('a spare copy made while quiet becomes the next snapshot: the same tree, no copy on the way, the base unchanged', async () => {
  const fresh = new GitSource({ url: repo.url, branch: 'main', mirrorDir: join(state, 'fresh-spare.git'), snapshotsDir: join(state, 'fresh-spare'), log: silentLogger });
  const base = repo.commit({ 'stacks/s/main.tf': 's1', 'stacks/t/main.tf': 't1', 'modules/m/main.tf': 'm1' });
  await source.fetch();
  const baseDir = await source.snapshot(base);
  const before = treeOf(baseDir);
  assert.equal(await source.prepareSpare(base), true);
  assert.equal(source.spareBase(), base);
  const spares = () => readdirSync(join(state, 'snapshots')).filter((name) => name.includes('.partial-'));
  assert.equal(spares().length, 1, 'one spare copy, named as this process\'s work under way');
  // Asked again for the same base: the same copy.
  assert.equal(await source.prepareSpare(base), true);
  assert.equal(spares().length, 1);
  const next = repo.commit({ 'stacks/s/main.tf': 's2', 'stacks/t': null, 'stacks/u/main.tf': 'u' });
  await source.fetch();
  await fresh.fetch();
  const copies = processCounts.get('cp') ?? 0;
  const made = await source.snapshot(next, { base });
  assert.equal((processCounts.get('cp') ?? 0) - copies, 0, 'the spare was used, not a new copy');
  assert.deepEqual(treeOf(made), treeOf(await fresh.snapshot(next)));
  assert.deepEqual(treeOf(baseDir), before, 'the base snapshot is unchanged');
  assert.equal(statSync(join(made, 'modules/m/main.tf')).ino, statSync(join(baseDir, 'modules/m/main.tf')).ino);
  assert.deepEqual(spares(), [], 'the spare became the snapshot');
  assert.equal(source.spareBase(), undefined);
  // A spare of an older base is dropped for the new one.
  assert.equal(await source.prepareSpare(base), true);
  assert.equal(await source.prepareSpare(next), true);
  assert.equal(spares().length, 1);
  assert.ok(spares()[0]!.startsWith(`${next}.partial-`));
});

test('a force-push is visible as a non-descendant head', async () => {
  const before = repo.head();
  const rewritten = repo.rewriteLast({ 'stacks/c/main.tf': 'c' });
  assert.equal(await source.fetch(), rewritten);
  assert.equal(await source.lineage(before, rewritten), 'diverged');
  assert.equal(await source.hasCommit(before), true);
});

test('a fast-forward is told in one git process; a commit the mirror lacks is unknown, and a failing git rejects', async () => {
  const previous = repo.head();
  const head = repo.commit({ 'stacks/d/main.tf': 'd' });
  await source.fetch();
  const before = gitProcesses();
  assert.equal(await source.lineage(previous, head), 'descends');
  assert.equal(gitProcesses() - before, 1);
  // Dropped from the mirror (a force-push): unknown, not a failure.
  const absent = 'f'.repeat(40);
  assert.equal(await source.lineage(absent, head), 'unknown');
  // git cannot answer (here: the head is not in the mirror): an error, never a rewrite.
  await assert.rejects(source.lineage(previous, absent), (e: { code: string; retry: string }) => e.code === 'E_GIT' && e.retry === 'transient');
  await assert.rejects(source.lineage('HEAD', head), (e: { code: string }) => e.code === 'E_BAD_REVISION');
});

test('fetches leave the mirror\'s packing to maintain(), and do it themselves when it has not run for a while', async () => {
  const mirror = join(state, 'upkeep.git');
  const kept = new GitSource({ url: repo.url, branch: 'main', mirrorDir: mirror, snapshotsDir: join(state, 'upkeep'), log: silentLogger, maintainInlineEvery: 3 });
  await kept.fetch();
  // Every fetch keeps its objects as a pack, and two packs are one too many: any upkeep that runs repacks.
  for (const [key, value] of Object.entries({ 'fetch.unpackLimit': '1', 'gc.autoPackLimit': '1', 'gc.autoDetach': 'false', 'maintenance.autoDetach': 'false' })) {
    execFileSync('git', ['--git-dir', mirror, 'config', key, value]);
  }
  const packs = () => readdirSync(join(mirror, 'objects/pack')).filter((name) => name.endsWith('.pack')).length;
  const fetchNew = async () => {
    repo.commit({ 'stacks/upkeep/main.tf': `${Math.random()}` });
    await kept.fetch();
  };
  await fetchNew();
  await fetchNew();
  assert.equal(packs(), 2, 'the fetches did not repack');
  await kept.maintain();
  assert.equal(packs(), 1, 'maintain() repacked');
  for (let i = 0; i < 3; i += 1) await fetchNew();
  assert.equal(packs(), 4);
  // The fourth fetch since the upkeep: it runs git's own upkeep.
  await fetchNew();
  assert.equal(packs(), 1);
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

test('a crafted tree naming `..` cannot make a new snapshot remove or write anything outside its folder', async () => {
  const crafted = new TestRepo();
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-crafted-'));
  try {
    const git = (args: string[], input?: string) => execFileSync('git', ['-C', crafted.work, ...args], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) }).trim();
    const base = crafted.commit({ 'stacks/a/main.tf': 'a' });
    const mine = new GitSource({ url: crafted.url, branch: 'main', mirrorDir: join(dir, 'mirror.git'), snapshotsDir: join(dir, 'snapshots'), log: silentLogger });
    await mine.fetch();
    await mine.snapshot(base);
    // What a removal of `../victim` from a new snapshot's folder would reach.
    const victim = join(dir, 'snapshots', 'victim');
    writeFileSync(victim, 'keep me');
    // A tree git itself never writes (a fetch does not check it): an entry named `..` holding `victim`.
    const blob = git(['hash-object', '-w', '--stdin'], 'evil');
    const inner = git(['mktree'], `100644 blob ${blob}\tvictim\n`);
    const outer = git(['mktree'], `${git(['ls-tree', 'HEAD'])}\n040000 tree ${inner}\t..\n`);
    const evil = git(['commit-tree', outer, '-p', base, '-m', 'crafted']);
    git(['push', '--quiet', '--force', 'origin', `${evil}:refs/heads/main`]);
    assert.equal(await mine.fetch(), evil);
    await assert.rejects(mine.snapshot(evil, { base }), (error: Error & { code?: string; retry?: string }) => {
      assert.equal(error.code, 'E_GIT_UNSAFE_TREE');
      assert.equal(error.retry, 'stalled');
      assert.match(error.message, /invalid path '\.\.\/victim'/);
      return true;
    });
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
  } finally {
    crafted.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
