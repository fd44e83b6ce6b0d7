import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../testkit/files.ts';

// What `npm publish` would ship, as npm itself lists it (package.json `files`).
function packedFiles(): string[] {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(result.status, 0, `npm pack --dry-run failed: ${result.stderr}`);
  const [pack] = JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>;
  return pack!.files.map((f) => f.path);
}

const RELATIVE_IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Every module the installed command loads, following relative imports (static and `import('./x')`) from bin/. */
function runtimeModules(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readFileSync(join(repoRoot, file), 'utf8').matchAll(RELATIVE_IMPORT)) {
      const target = relative(repoRoot, resolve(repoRoot, dirname(file), match[1]!));
      if (existsSync(join(repoRoot, target))) pending.push(target);
    }
  }
  return seen;
}

test('the npm package ships what the command runs, and nothing of the tests', () => {
  const files = packedFiles();
  const shipped = new Set(files);

  const testOnly = files.filter((f) => /\.test\.ts$/.test(f) || /(^|\/)fixtures\//.test(f) || /^(test|testkit|bench|scripts)\//.test(f));
  assert.deepEqual(testOnly, [], 'tests, fixtures and test infrastructure stay out of the package');

  const modules = runtimeModules('bin/plumbline.mjs');
  assert.ok(modules.has('engine/cli/main.ts') && modules.has('providers/index.ts'), `the import walk reached the engine and the providers: ${[...modules].slice(0, 5).join(', ')}`);
  const missing = [...modules].filter((m) => !shipped.has(m));
  assert.deepEqual(missing, [], 'every module the command loads is in the package (none of them imports test code)');

  // Loaded by path, not imported: the hooks a CDKTF app runs with.
  const cdktfRuntime = readdirSync(join(repoRoot, 'providers', 'cdktf', 'runtime')).map((f) => `providers/cdktf/runtime/${f}`);
  assert.ok(cdktfRuntime.length > 0);
  assert.deepEqual(cdktfRuntime.filter((f) => !shipped.has(f)), []);
  // The compiled command, when built (npm ci and npm pack run the prepare script): all of it.
  if (existsSync(join(repoRoot, 'dist', 'build-stamp.json'))) {
    const built = readdirSync(join(repoRoot, 'dist')).map((f) => `dist/${f}`);
    assert.deepEqual(built.filter((f) => !shipped.has(f)), [], 'the whole build is shipped');
  }
  for (const example of ['stacks/hello/main.tf', 'inventories/web/site.yml', 'tsconfig.json']) assert.ok(shipped.has(example), `${example} is shipped`);
});
