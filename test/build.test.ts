import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../testkit/files.ts';

// The build and the launcher on a copy of the package (the build writes dist/
// beside the sources, and other tests run the command from this checkout).
let copy: string;

before(() => {
  copy = mkdtempSync(join(tmpdir(), 'plumbline-build-'));
  for (const part of ['bin', 'engine', 'providers', 'scripts', 'package.json']) {
    cpSync(join(repoRoot, part), join(copy, part), { recursive: true, filter: (src) => !src.includes('/fixtures') && !src.endsWith('.test.ts') });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'));
  const built = spawnSync(process.execPath, [join(copy, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  assert.equal(built.status, 0, `build failed: ${built.stderr}`);
});

after(() => rmSync(copy, { recursive: true, force: true }));

/** The description `plumbline --help` prints, which the test marks in the build to tell the two apart. */
const DESCRIPTION = 'GitOps engine for Terraform, CDKTF and Ansible';
const MARKED = 'BUILT engine for Terraform, CDKTF and Ansible';

function help(env: Record<string, string> = {}): string {
  const result = spawnSync(process.execPath, [join(copy, 'bin', 'plumbline.mjs'), '--help'], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

function edit(path: string, change: (text: string) => string): void {
  writeFileSync(join(copy, path), change(readFileSync(join(copy, path), 'utf8')));
}

test('the command runs the build while it matches the sources, and the sources once one changes', () => {
  const version = spawnSync(process.execPath, [join(copy, 'bin', 'plumbline.mjs'), '--version'], { encoding: 'utf8' });
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version, 'the build reads package.json from the package root');

  edit('dist/main.js', (text) => {
    assert.ok(text.includes(DESCRIPTION), 'the command line is in the build entry');
    return text.replace(DESCRIPTION, MARKED);
  });
  assert.ok(help().includes(MARKED), 'a fresh build runs');
  assert.ok(help({ PLUMBLINE_FROM_SOURCE: '1' }).includes(DESCRIPTION), 'PLUMBLINE_FROM_SOURCE=1 runs the sources');

  // Same content, other times (a checkout, npm's tarball times): still the build.
  const main = join(copy, 'engine', 'cli', 'main.ts');
  utimesSync(main, new Date('1985-10-26T08:15:00Z'), new Date('1985-10-26T08:15:00Z'));
  assert.ok(help().includes(MARKED), 'a source with other times but the same content keeps the build');

  // A source the build came from, edited: the sources run, as edited.
  edit('engine/cli/output.ts', (text) => `${text}\n// edited after the build\n`);
  assert.ok(help().includes(DESCRIPTION), 'an edited source makes the build stale');
});

test('a build of another format, or with a source gone, is not run', () => {
  const stampFile = join(copy, 'dist', 'build-stamp.json');
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { format: number; sources: Record<string, unknown> };
  const check = (changed: object): string | undefined => {
    writeFileSync(stampFile, JSON.stringify({ ...stamp, ...changed }));
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', `import { freshBuild } from ${JSON.stringify(join(copy, 'bin', 'build-stamp.mjs'))}; console.log(freshBuild(${JSON.stringify(copy)}) ?? 'stale')`], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  };
  // The stamp as built, less the source the test above edited.
  const fresh = { sources: Object.fromEntries(Object.entries(stamp.sources).filter(([path]) => path !== 'engine/cli/output.ts')) };
  assert.equal(check(fresh), join(copy, 'dist', 'main.js'));
  assert.equal(check({ ...fresh, format: stamp.format + 1 }), 'stale');
  assert.equal(check({ sources: { ...fresh.sources, 'engine/removed.ts': { size: 1, mtimeMs: 1, sha256: 'x' } } }), 'stale');
});
