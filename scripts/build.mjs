#!/usr/bin/env node
// `npm run build`, and the `prepare` script `npm ci` / `npm install` run: compile
// the command and the engine it loads into dist/ so a start does not compile
// TypeScript (see bin/build-stamp.mjs for when the launcher uses it).
//
// One ESM bundle split at every dynamic import: `plumbline --version` loads the
// command line alone, the daemon, the store, each provider load when used.
// Dependencies stay in node_modules (packages: 'external'). Every output file
// sits directly in dist/, one folder below the package root like the engine's
// own top-level modules, so `new URL('..', import.meta.url)` (engine/install-root.ts)
// names the package root from either.
import { createRequire } from 'node:module';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSource, DIST, ENTRY, FORMAT, STAMP } from '../bin/build-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const staging = join(root, `${DIST}.building`);
const target = join(root, DIST);

/** The esbuild tsx runs on: Plumbline adds no bundler of its own. */
function loadEsbuild() {
  const fromHere = createRequire(import.meta.url);
  return createRequire(fromHere.resolve('tsx'))('esbuild');
}

const started = performance.now();
rmSync(staging, { recursive: true, force: true });
const result = await loadEsbuild().build({
  absWorkingDir: root,
  entryPoints: { [ENTRY.replace(/\.js$/, '')]: 'engine/cli/main.ts' },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Error classes and stack traces keep the names of the sources.
  keepNames: true,
  // For `node --enable-source-maps`; no cost otherwise.
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => relative(staging, join(root, p)));
const nested = outputs.filter((p) => p.includes('/'));
if (nested.length > 0) throw new Error(`build outputs must sit directly in ${DIST}/ (engine/install-root.ts): ${nested.join(', ')}`);

const sources = {};
for (const path of Object.keys(result.metafile.inputs).sort()) {
  if (!path.startsWith('node_modules/')) sources[path] = describeSource(root, path);
}
writeFileSync(join(staging, STAMP), `${JSON.stringify({ format: FORMAT, builtAt: new Date().toISOString(), sources }, null, 1)}\n`);

if (existsSync(target)) rmSync(target, { recursive: true, force: true });
renameSync(staging, target);
console.log(`built ${DIST}/ from ${Object.keys(sources).length} sources into ${outputs.filter((p) => p.endsWith('.js')).length} modules in ${Math.round(performance.now() - started)} ms`);
