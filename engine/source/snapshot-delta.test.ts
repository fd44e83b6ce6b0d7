import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TestRepo } from '../../testkit/git-repo.ts';
import { findEscapingLinks } from '../definitions/escaping-links.ts';
import { processCounts } from '../exec.ts';
import { silentLogger } from '../log.ts';
import { GitSource } from './git-source.ts';
import { deltaFits, hasAttributes, MAX_DELTA_PATHS, parseNameStatus } from './snapshot-delta.ts';

const state = mkdtempSync(join(tmpdir(), 'plumbline-delta-'));
const repos: TestRepo[] = [];
after(() => {
  for (const repo of repos) repo.dispose();
  rmSync(state, { recursive: true, force: true });
});

let sources = 0;
function sourceOf(repo: TestRepo): GitSource {
  sources += 1;
  return new GitSource({ url: repo.url, branch: 'main', mirrorDir: join(state, `mirror-${sources}.git`), snapshotsDir: join(state, `snapshots-${sources}`), log: silentLogger });
}

/** Every entry below `dir`: type, mode, content or link target. */
function treeOf(dir: string): Record<string, string> {
  const tree: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, entry);
    const info = lstatSync(path);
    const mode = (info.mode & 0o777).toString(8);
    if (info.isSymbolicLink()) tree[entry] = `link -> ${readlinkSync(path)}`;
    else if (info.isDirectory()) tree[entry] = `folder ${mode}`;
    else tree[entry] = `file ${mode} ${readFileSync(path, 'utf8')}`;
  }
  return tree;
}

const copies = () => processCounts.get('cp') ?? 0;

test('git diff-tree output is read as changes, ancestors first', () => {
  assert.deepEqual(parseNameStatus('M\0stacks/a/main.tf\0D\0stacks/a\0A\0b c\0T\0x\0'), [
    { path: 'b c', deleted: false },
    { path: 'stacks/a', deleted: true },
    { path: 'stacks/a/main.tf', deleted: false },
    { path: 'x', deleted: false },
  ]);
  assert.deepEqual(parseNameStatus(''), []);
  // A rename (two paths) or a half record is not what the delta knows how to apply.
  assert.equal(parseNameStatus('R100\0a\0b\0'), undefined);
  assert.equal(parseNameStatus('M\0'), undefined);
  assert.equal(deltaFits(Array.from({ length: MAX_DELTA_PATHS + 1 }, (_, i) => ({ path: `f${i}`, deleted: false }))), false);
  assert.equal(deltaFits([{ path: 'stacks/a/main.tf', deleted: false }]), true);
  assert.equal(hasAttributes(['stacks/a/main.tf', 'modules/.gitattributes']), true);
  assert.equal(hasAttributes(['stacks/a/main.tf', 'notes.gitattributes']), false);
});

test('a snapshot made from the last one is the tree a whole extraction gives', async () => {
  const repo = new TestRepo();
  repos.push(repo);
  const files: Record<string, string> = { 'modules/net/main.tf': 'module', 'docs/old/readme.md': 'old', 'stacks/keep/main.tf': 'keep', 'stacks/gone/main.tf': 'gone', 'tools/run.sh': 'echo' };
  for (let i = 0; i < 20; i += 1) files[`stacks/s${i}/main.tf`] = `s${i}`;
  const first = repo.commit(files);
  // A folder that becomes a link, a file that becomes a folder, a mode that changes,
  // a folder emptied (Git keeps none), a link that escapes the repository.
  rmSync(join(repo.work, 'docs'), { recursive: true });
  symlinkSync('modules', join(repo.work, 'docs'));
  rmSync(join(repo.work, 'tools/run.sh'));
  mkdirSync(join(repo.work, 'tools/run.sh'));
  repo.commit({ 'tools/run.sh/inner': 'now a folder' });
  chmodSync(join(repo.work, 'stacks/keep/main.tf'), 0o755);
  symlinkSync('/etc/passwd', join(repo.work, 'stacks/s3/secrets.tf'));
  const second = repo.commit({ 'stacks/s1/main.tf': 's1 changed', 'stacks/gone/main.tf': null, 'stacks/new/deep/main.tf': 'new', 'modules/net/vars.tf': 'v' });

  const derived = sourceOf(repo);
  await derived.fetch();
  const firstDir = await derived.snapshot(first);
  const before = copies();
  const snapshot = await derived.snapshot(second);
  assert.equal(copies() - before, 1, 'made from the earlier snapshot (one hard-linked copy)');
  const whole = sourceOf(repo);
  await whole.fetch();
  const expected = await whole.snapshot(second);
  assert.deepEqual(treeOf(snapshot), treeOf(expected));
  assert.equal(lstatSync(join(snapshot, 'stacks/gone'), { throwIfNoEntry: false }), undefined, 'an emptied folder goes');
  // The earlier snapshot is untouched: the two share files, never changes.
  assert.equal(readFileSync(join(firstDir, 'stacks/s1/main.tf'), 'utf8'), 's1');
  assert.equal(readFileSync(join(firstDir, 'docs/old/readme.md'), 'utf8'), 'old');
  // A module outside the unit folder is there, and a link leaving the repository is still refused.
  assert.equal(readFileSync(join(snapshot, 'modules/net/vars.tf'), 'utf8'), 'v');
  assert.deepEqual(await findEscapingLinks(snapshot, ['stacks/s3']), [{ path: 'stacks/s3/secrets.tf', target: '/etc/passwd' }]);
});

test('a snapshot being removed is never made into another one; one in use is not removed', async () => {
  const repo = new TestRepo();
  repos.push(repo);
  const first = repo.commit({ 'stacks/a/main.tf': 'a', 'stacks/b/main.tf': 'b' });
  const second = repo.commit({ 'stacks/a/main.tf': 'a2' });
  const third = repo.commit({ 'stacks/b/main.tf': 'b3' });
  const source = sourceOf(repo);
  await source.fetch();
  await source.snapshot(first);
  assert.equal(source.claimSnapshotRemoval(first), true);
  let before = copies();
  const whole = await source.snapshot(second);
  assert.equal(copies() - before, 0, 'extracted whole while the last snapshot is being removed');
  assert.equal(readFileSync(join(whole, 'stacks/a/main.tf'), 'utf8'), 'a2');
  source.releaseSnapshot(first);
  before = copies();
  const pending = source.snapshot(third);
  // Garbage collection asks while the snapshot is made (each claim given back at once).
  const claims: boolean[] = [];
  const timer = setInterval(() => {
    const claimed = source.claimSnapshotRemoval(second);
    if (claimed) source.releaseSnapshot(second);
    claims.push(claimed);
  }, 1);
  const derived = await pending;
  clearInterval(timer);
  assert.equal(copies() - before, 1);
  assert.equal(readFileSync(join(derived, 'stacks/b/main.tf'), 'utf8'), 'b3');
  assert.ok(claims.includes(false), 'garbage collection was refused while the snapshot was in use');
});

test('a repository with .gitattributes is extracted whole (export-subst makes unchanged files differ)', async () => {
  const repo = new TestRepo();
  repos.push(repo);
  const first = repo.commit({ '.gitattributes': 'version.txt export-subst\n', 'version.txt': '$Format:%H$', 'stacks/a/main.tf': 'a' });
  const second = repo.commit({ 'stacks/a/main.tf': 'a2' });
  const source = sourceOf(repo);
  await source.fetch();
  await source.snapshot(first);
  const before = copies();
  const snapshot = await source.snapshot(second);
  assert.equal(copies() - before, 0);
  assert.equal(readFileSync(join(snapshot, 'version.txt'), 'utf8'), second);
});
