#!/usr/bin/env node
// `npm run build`, and the `prepare` script `npm ci` / `npm install` run: compile
// the command and the engine it loads into dist/ so a start does not compile
// TypeScript (see bin/build-stamp.mjs for when the launcher uses it).
//
// One ESM bundle split at every dynamic import: `plumbline --version` loads the
// command line alone, the daemon, the store, each provider load when used.
// The pure-JavaScript dependencies the daemon loads at start are bundled too
// (BUNDLED): Node loads a module file by file, and kysely alone is some 280
// files, pino and its dependencies some 20. The others stay in node_modules:
// native code (better-sqlite3, ssh2), what CDKTF apps load themselves (cdktf,
// tsx, esbuild), and what is seldom used (pg, openid-client). (pino resolves
// files of its own at run time only for its worker-thread transports, which
// Plumbline does not use: engine/log.ts writes to a stream.) Every output file
// sits directly in dist/, one folder below the package root like the engine's
// own top-level modules, so `new URL('..', import.meta.url)` (engine/install-root.ts)
// names the package root from either.
import { createRequire } from 'node:module';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSource, DIST, ENTRY, FORMAT, STAMP } from '../bin/build-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const BUNDLED = new Set(['pino', 'kysely', 'execa', 'commander', 'zod', 'prom-client', 'simple-git', 'js-yaml', 'picomatch', 'p-queue']);

/** A bare import is bundled when it names a BUNDLED package or comes from one (its own dependencies). */
const dependencies = {
  name: 'dependencies',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const name = args.path.split('/').slice(0, args.path.startsWith('@') ? 2 : 1).join('/');
      const fromBundled = args.importer.includes('/node_modules/');
      return BUNDLED.has(name) || fromBundled ? undefined : { external: true };
    });
  },
};
/**
 * What the bundled dependencies load and Plumbline never uses, left out:
 * - zod's namespace re-exports its error messages in some fifty languages
 *   (`z.locales`, 400 kB of the bundle, parsed at every start); Plumbline
 *   speaks English only, the locale zod sets up by default, so that one stays.
 * - prom-client loads the OpenTelemetry API (70 kB) for one thing: the trace
 *   of an exemplar, and Plumbline enables no exemplars. In its place, the
 *   API's own answer when no tracer is registered: no span.
 */
const unused = {
  name: 'unused',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
    build.onResolve({ filter: /^@opentelemetry\/api$/ }, (args) =>
      args.importer.includes('/node_modules/prom-client/') ? { path: 'no-exemplar-traces', namespace: 'unused' } : undefined,
    );
    build.onLoad({ filter: /^no-exemplar-traces$/, namespace: 'unused' }, () => ({
      contents: 'module.exports = { trace: { getSpan: () => undefined }, context: { active: () => undefined } };\n',
      loader: 'js',
    }));
  },
};
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
  plugins: [unused, dependencies],
  // Bundled CommonJS calls require() for Node's own modules.
  banner: { js: "import { createRequire as __plumblineRequire } from 'node:module'; const require = __plumblineRequire(import.meta.url);" },
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

// Plumbline's own files, and package.json (a dependency changed comes with a new build: npm runs prepare).
const sources = { 'package.json': describeSource(root, 'package.json') };
for (const path of Object.keys(result.metafile.inputs).sort()) {
  // (Modules the build made up itself, `unused:`, have no file.)
  if (!path.includes('node_modules/') && !path.startsWith(`${unused.name}:`)) sources[path] = describeSource(root, path);
}
writeFileSync(join(staging, STAMP), `${JSON.stringify({ format: FORMAT, builtAt: new Date().toISOString(), sources }, null, 1)}\n`);

if (existsSync(target)) rmSync(target, { recursive: true, force: true });
renameSync(staging, target);
console.log(`built ${DIST}/ from ${Object.keys(sources).length} sources into ${outputs.filter((p) => p.endsWith('.js')).length} modules in ${Math.round(performance.now() - started)} ms`);
