import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TestRepo } from '../../testkit/git-repo.ts';
import { isPlainRelativePath, parseTar, writeEntries } from './tar.ts';

const repo = new TestRepo();
const out = mkdtempSync(join(tmpdir(), 'plumbline-tar-'));
after(() => {
  repo.dispose();
  rmSync(out, { recursive: true, force: true });
});

const LONG = `stacks/${'deep-folder-name/'.repeat(8)}main.tf`;
const LONG_TARGET = `../${'x'.repeat(120)}`;

/** The archive git writes for `paths` at HEAD (as GitSource asks for it). */
function archive(paths: string[]): Buffer {
  return execFileSync('git', ['-C', repo.work, '--literal-pathspecs', 'archive', '--format=tar', 'HEAD', '--', ...paths], { maxBuffer: 64 * 1024 * 1024 });
}

test('what git archive writes is read back: folders, files with their modes, links, long paths and link targets (pax records)', async () => {
  repo.commit({ 'stacks/a/main.tf': 'resource "x" {}\n', [LONG]: 'long', 'bin/run.sh': '#!/bin/sh\n', 'data/blob.bin': '\u0000\u00ff binary' });
  execFileSync('chmod', ['+x', join(repo.work, 'bin/run.sh')]);
  symlinkSync(LONG_TARGET, join(repo.work, 'stacks/a/far'));
  symlinkSync('../../bin', join(repo.work, 'stacks/a/bin'));
  repo.commit({});
  const paths = ['stacks/a/main.tf', LONG, 'bin/run.sh', 'data/blob.bin', 'stacks/a/far', 'stacks/a/bin'];
  const entries = parseTar(archive(paths));
  const byPath = new Map(entries.map((e) => [e.path, e]));
  assert.equal(byPath.get(LONG)?.data.toString(), 'long');
  assert.equal(byPath.get('stacks/a/far')?.link, LONG_TARGET);
  assert.equal(byPath.get('stacks/a/bin')?.type, 'symlink');
  assert.equal(byPath.get('bin/run.sh')!.mode & 0o111, 0o111);
  assert.equal(byPath.get('stacks/a/main.tf')!.mode & 0o111, 0);
  assert.equal(byPath.get('stacks')?.type, 'dir');

  const dir = join(out, 'tree');
  mkdirSync(dir);
  await writeEntries(dir, entries, new Set(paths));
  // The same tree tar makes.
  const reference = join(out, 'reference');
  mkdirSync(reference);
  execFileSync('tar', ['-xf', '-', '-C', reference, '--no-same-owner', '--no-same-permissions'], { input: archive(paths) });
  for (const path of [...paths, 'stacks', 'stacks/a', 'bin']) {
    const [mine, theirs] = [lstatSync(join(dir, path)), lstatSync(join(reference, path))];
    assert.equal(mine.mode, theirs.mode, `${path}: mode`);
    assert.equal(mine.mtimeMs, theirs.mtimeMs, `${path}: time`);
    if (mine.isSymbolicLink()) assert.equal(readlinkSync(join(dir, path)), readlinkSync(join(reference, path)));
    else if (mine.isFile()) assert.deepEqual(readFileSync(join(dir, path)), readFileSync(join(reference, path)));
  }
});

test('an entry that was not asked for, or a path already there, is refused: nothing is written through it', async () => {
  const entries = parseTar(archive(['stacks/a/main.tf']));
  const dir = join(out, 'refused');
  mkdirSync(dir);
  await assert.rejects(writeEntries(dir, entries, new Set(['stacks/b/main.tf'])), /unexpected path "stacks\/a"/);
  // A link where the archive has a folder.
  rmSync(dir, { recursive: true });
  mkdirSync(dir);
  symlinkSync(out, join(dir, 'stacks'));
  await assert.rejects(writeEntries(dir, entries, new Set(['stacks/a/main.tf'])), /in the way of a folder/);
  // A file that exists already is not overwritten.
  rmSync(dir, { recursive: true });
  mkdirSync(join(dir, 'stacks/a'), { recursive: true });
  execFileSync('touch', [join(dir, 'stacks/a/main.tf')]);
  await assert.rejects(writeEntries(dir, entries, new Set(['stacks/a/main.tf'])), { code: 'EEXIST' });
  assert.equal(readFileSync(join(dir, 'stacks/a/main.tf'), 'utf8'), '');
});

test('a name that is not UTF-8 is refused, never written under another name', () => {
  const latin1 = Buffer.concat([Buffer.from(join(repo.work, 'latin1/caf')), Buffer.from([0xe9]), Buffer.from('.tf')]);
  mkdirSync(join(repo.work, 'latin1'));
  writeFileSync(latin1, 'x');
  repo.commit({});
  assert.throws(() => parseTar(archive(['latin1'])), { code: 'ERR_ENCODING_INVALID_ENCODED_DATA' });
});

test('anything but an archive git writes is refused', () => {
  assert.throws(() => parseTar(Buffer.alloc(100)), /without its end/);
  const damaged = Buffer.from(archive(['stacks/a/main.tf']));
  damaged[1024 + 10] = damaged[1024 + 10]! ^ 1;
  assert.throws(() => parseTar(damaged), /checksum/);
  const other = Buffer.from(archive(['stacks/a/main.tf']));
  for (let at = 0; at < other.length; at += 512) {
    if (other.subarray(at + 257, at + 262).toString() !== 'ustar' || other[at + 156] !== '0'.charCodeAt(0)) continue;
    other[at + 156] = '3'.charCodeAt(0); // a character device
    let sum = 0;
    for (let i = 0; i < 512; i += 1) sum += i >= 148 && i < 156 ? 0x20 : other[at + i]!;
    other.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'ascii');
  }
  assert.throws(() => parseTar(other), /entry type "3"/);
});

test('only a path that stays below its folder is plain', () => {
  for (const path of ['a', 'stacks/web/main.tf', '.github/x', 'a..b/c']) assert.equal(isPlainRelativePath(path), true, path);
  for (const path of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a', 'a/.', 'a/']) assert.equal(isPlainRelativePath(path), false, path);
});
