import { createRequire, isBuiltin } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type * as EsbuildApi from 'esbuild';
import type { Message, Plugin, PluginBuild } from 'esbuild';

/**
 * What a CDKTF app's entry imports, found by esbuild (the bundler tsx itself
 * runs on, so a file is found exactly when tsx would load it): every file of
 * the repository it loads, recursively, the packages it imports, and the
 * imports that cannot work (a missing file, a path out of the repository).
 *
 * esbuild only parses: nothing of the app runs, nothing is written, and the
 * bundler service is the one tsx already keeps running in the daemon. Bare
 * imports are never followed into packages; tsconfig `paths` aliases that
 * lead to repository files are.
 */

/** A place in a repository file, 1-based line and column. */
export interface Place {
  file: string;
  line: number;
  column: number;
}

export interface ImportScan {
  /** Repository-relative files the app loads, the entry first. */
  files: string[];
  /** For each file but the entry, the first file found importing it. */
  importers: Map<string, string>;
  /** Packages imported by name (`cdktf`, `@cdktf/provider-aws`), with the first place each is imported. */
  packages: Map<string, Place>;
  /** Relative or absolute imports that resolve to no file. */
  missing: Array<{ specifier: string; at: Place }>;
  /** Imports of files outside the repository. */
  outside: Array<{ specifier: string; at: Place }>;
  /** What esbuild could not follow (`import(name)` built at run time), or could not parse. */
  notes: string[];
}

export interface ScanOptions {
  /** Absolute path of the entry file. */
  entryFile: string;
  /** Repository-relative form of an absolute real path, null when it is not in the repository. */
  repoPath(absolute: string): string | null;
}

/** Scan what `entryFile` imports, recursively. Never throws for a problem in the app's files. */
export async function scanImports(options: ScanOptions): Promise<ImportScan> {
  const esbuild = await loadEsbuild();
  const workingDir = dirname(options.entryFile);
  const scan: ImportScan = { files: [], importers: new Map(), packages: new Map(), missing: [], outside: [], notes: [] };
  const files = new Set<string>();
  const addFile = (absolute: string, importer?: string): boolean => {
    const path = options.repoPath(absolute);
    if (path === null) return false;
    if (!files.has(path)) {
      files.add(path);
      const from = importer ? options.repoPath(importer) : null;
      if (from) scan.importers.set(path, from);
    }
    return true;
  };
  addFile(options.entryFile);

  // Problems are returned as esbuild warnings: esbuild attaches the importing
  // line and column to them, and a warning does not stop the scan.
  type Problem = { kind: 'missing' | 'outside' | 'package'; specifier: string };
  const report = (kind: Problem['kind'], specifier: string) => {
    const detail: Problem = { kind, specifier };
    return { external: true, warnings: [{ text: `${kind}: ${specifier}`, detail }] };
  };
  const plugin: Plugin = {
    name: 'plumbline-imports',
    setup(build: PluginBuild) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.plumblineInner || args.kind === 'entry-point') return undefined;
        const specifier = args.path;
        if (isBuiltin(specifier)) return { external: true };
        const bare = isBare(specifier);
        const resolved = await build.resolve(specifier, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { plumblineInner: true },
        });
        const found = resolved.errors.length === 0 && !resolved.external && isAbsolute(resolved.path) ? resolved.path : null;
        if (bare) {
          // A tsconfig `paths` alias that leads to a repository file is followed like a relative import.
          if (found && !found.split('/').includes('node_modules') && addFile(found, args.importer)) return { path: found };
          return report('package', packageName(specifier));
        }
        if (!found) {
          const lexical = isAbsolute(specifier) ? specifier : resolve(args.resolveDir, specifier);
          return report(options.repoPath(lexical) === null ? 'outside' : 'missing', specifier);
        }
        if (!addFile(found, args.importer)) return report('outside', specifier);
        return { path: found };
      });
    },
  };

  let messages: Message[] = [];
  try {
    const result = await esbuild.build({
      entryPoints: [options.entryFile],
      absWorkingDir: workingDir,
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      plugins: [plugin],
    });
    messages = result.warnings;
  } catch (error) {
    // A file that does not parse: tsx will report it when the app runs; list what was found so far.
    const failure = error as { errors?: Message[]; warnings?: Message[] };
    messages = [...(failure.warnings ?? []), ...(failure.errors ?? [])];
    if (!failure.errors) scan.notes.push(`the imports could not be scanned: ${error instanceof Error ? error.message : String(error)}`);
  }

  for (const message of messages) {
    const problem = message.pluginName === 'plumbline-imports' ? (message.detail as Problem | undefined) : undefined;
    const at = placeOf(message, workingDir, options.repoPath);
    if (!problem) {
      scan.notes.push(at ? `${at.file}:${at.line}:${at.column}: ${message.text}` : message.text);
      continue;
    }
    if (!at) continue;
    if (problem.kind === 'package') {
      if (!scan.packages.has(problem.specifier)) scan.packages.set(problem.specifier, at);
    } else {
      scan[problem.kind].push({ specifier: problem.specifier, at });
    }
  }
  scan.files = [...files];
  return scan;
}

function placeOf(message: Message, workingDir: string, repoPath: ScanOptions['repoPath']): Place | null {
  const location = message.location;
  if (!location) return null;
  const file = repoPath(isAbsolute(location.file) ? location.file : join(workingDir, location.file));
  // esbuild columns count from 0.
  return file === null ? null : { file, line: location.line, column: location.column + 1 };
}

/** `cdktf`, `@cdktf/provider-aws` from `cdktf/lib/x`, `@cdktf/provider-aws/lib/vpc`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Not relative, not absolute, not a URL: a package name. */
export function isBare(specifier: string): boolean {
  return !/^(?:\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:|#)/.test(specifier) && specifier !== '.' && specifier !== '..';
}

type Esbuild = typeof EsbuildApi;
let esbuildModule: Esbuild | undefined;

/** The esbuild tsx depends on, found through tsx: Plumbline adds no bundler of its own. */
async function loadEsbuild(): Promise<Esbuild> {
  if (!esbuildModule) {
    const fromHere = createRequire(import.meta.url);
    const fromTsx = createRequire(fromHere.resolve('tsx'));
    esbuildModule = fromTsx('esbuild') as Esbuild;
  }
  return esbuildModule;
}
