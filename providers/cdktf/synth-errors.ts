import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { z } from 'zod';
import { type ExecResult, pathExists, secrets, ToolError, type UnitDefinition } from '../../engine/provider-kit.ts';
import type { CDKTF_ERROR_CODES } from './error-codes.ts';
import { inFolder, shown, type AppLocation } from './app.ts';
import { isBare, packageName, type ImportScan, type Place } from './imports.ts';
import { BUNDLED_PACKAGES } from './modules.ts';
import type { PathMapper } from './repo-paths.ts';
import { describeMismatch, mismatchHint, type PackageCopy, type VersionMismatch } from './versions.ts';

/**
 * Why a synthesis failed, told from the error report the app process wrote
 * (runtime/report-errors.cjs), with a code and a hint per cause:
 *
 * - E_CDKTF_SYNTH: a syntax error, or the app threw; names file:line:column.
 * - E_CDKTF_VERSION_MISMATCH: the app threw and loads two copies of a toolkit package.
 * - E_CDKTF_IMPORT_PACKAGE: a package neither bundled nor declared in the app's package.json.
 * - E_CDKTF_IMPORT_FILE: a relative import of a file the repository does not have.
 * - E_CDKTF_IMPORT_OUTSIDE: an import of a file outside the repository.
 * - E_CDKTF_IMPORT_EXPORT: an installed package without the export or subpath imported.
 * - E_CDKTF_IMPORT_FORMAT: an ES module / CommonJS mismatch (named imports from CommonJS, require of an async ES module).
 */

export interface FailureContext {
  unit: UnitDefinition;
  app: AppLocation;
  reportFile: string;
  result: ExecResult;
  paths: PathMapper;
  mismatches: readonly VersionMismatch[];
  /** The copy of a package the app loads, null when it has none. */
  installed(name: string): Promise<PackageCopy | null>;
  /** Packages the app's package.json declares; null when the app has none. */
  declared: ReadonlySet<string> | null;
  /** What the entry imports (run only when an import failed). */
  scan(): Promise<ImportScan>;
  /** The absolute path of a repository file in this run. */
  fileOf(path: string): string;
}

const reportSchema = z.object({
  name: z.string().default('Error'),
  code: z.string().optional(),
  message: z.string().default(''),
  stack: z.string().default(''),
  /** For a missing named export: whether the package, loaded whole, has that name after all. */
  exportPresent: z.boolean().optional(),
});
type Report = z.infer<typeof reportSchema>;

interface Location {
  file: string;
  line: number;
  column?: number;
}

interface Described {
  code: keyof typeof CDKTF_ERROR_CODES;
  /** What failed, without the location. */
  text: string;
  location?: Location;
  hint: string;
}

/** Describe a failed synthesis: file:line:column of the app's own code, the error and what to do. */
export async function synthError(context: FailureContext): Promise<ToolError> {
  const { paths } = context;
  const report = reportSchema.safeParse(safeJson(await readFile(context.reportFile, 'utf8').catch(() => '')));
  const described = report.success ? await describeReport(report.data, context) : describeExit(context);
  const where = described.location ? formatLocation(described.location) : context.app.entry;
  const message = secrets.maskText(`cdktf synth failed at ${where}: ${paths.scrub(limit(described.text))}`);
  const { location } = described;
  return new ToolError(described.code, message, {
    retry: 'stalled',
    hint: secrets.maskText(paths.scrub(described.hint)),
    details: location ? { file: location.file, line: location.line, ...(location.column !== undefined ? { column: location.column } : {}) } : undefined,
  });
}

async function describeReport(report: Report, context: FailureContext): Promise<Described> {
  const { paths, app } = context;
  const { name, message, stack } = report;
  const syntax = parseTransformError(message, paths);
  if (syntax) {
    syntax.location.file = await existingVariant(syntax.location.file, context);
    if (/top-level await/i.test(syntax.text)) {
      // In a file the entry imports, it is an ES module that a CommonJS app cannot load.
      return {
        code: syntax.location.file === app.entry ? 'E_CDKTF_SYNTH' : 'E_CDKTF_IMPORT_FORMAT',
        text: `syntax error: ${syntax.text}`,
        location: syntax.location,
        hint:
          `top-level await needs an ES module entry: rename the entry ${app.entry} to ${posix.basename(app.entry).replace(/\.ts$/, '.mts')}, or give ${shown(app.appPath)} ` +
          'a package.json with "type": "module" (and its package-lock.json)',
      };
    }
    return {
      code: 'E_CDKTF_SYNTH',
      text: `syntax error: ${syntax.text}`,
      location: syntax.location,
      hint: `fix the syntax in ${syntax.location.file} and commit; \`npx tsc --noEmit\` in ${shown(app.appPath)} catches this before a push`,
    };
  }
  const location = firstOwnFrame(stack, paths) ?? uncaughtHeader(context.result.stderr, paths);
  const text = `${name}: ${message}`;
  const imported = await describeImportProblem(report, location, context);
  if (imported) return imported;
  const mismatch = context.mismatches[0];
  if (mismatch) return versionMismatch(mismatch, text, location, context);
  return {
    code: 'E_CDKTF_SYNTH',
    text,
    location,
    hint: `the app threw while building its constructs; run \`npx tsx ${entryFromApp(app)}\` in ${shown(app.appPath)} to reproduce`,
  };
}

function describeExit(context: FailureContext): Described {
  const { app, result, paths } = context;
  const text = lastLines(result.stderr) || `the app exited with code ${result.exitCode}`;
  const location = uncaughtHeader(result.stderr, paths);
  const mismatch = context.mismatches[0];
  if (mismatch) return versionMismatch(mismatch, text, location, context);
  return { code: 'E_CDKTF_SYNTH', text, location, hint: `the app exited with an error; run \`npx tsx ${entryFromApp(app)}\` in ${shown(app.appPath)} to reproduce` };
}

function versionMismatch(mismatch: VersionMismatch, text: string, location: Location | undefined, context: FailureContext): Described {
  const appPackage = inFolder(context.app.appPath, 'package.json');
  return {
    code: 'E_CDKTF_VERSION_MISMATCH',
    text: `${text} (${describeMismatch(mismatch, appPackage)})`,
    location,
    hint: mismatchHint(mismatch, appPackage, shown(context.app.appPath)),
  };
}

// ---------------------------------------------------------------------------
// Imports

const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);
const REQUIRE_ESM = new Set(['ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE']);

async function describeImportProblem(report: Report, location: Location | undefined, context: FailureContext): Promise<Described | null> {
  const { code, message } = report;
  const { app } = context;
  const text = `${report.name}: ${message}`;

  if ((code && NOT_FOUND.has(code)) || /^Cannot find (module|package) /.test(message)) {
    const scan = await context.scan();
    const outside = scan.outside[0];
    if (outside) {
      return {
        code: 'E_CDKTF_IMPORT_OUTSIDE',
        text: `${outside.specifier} leads outside the repository`,
        location: outside.at,
        hint:
          'Plumbline synthesizes from the repository alone, at the commit it plans: move the shared code into this repository ' +
          '(and import it with a path inside it), or publish it as a package and declare it in the app\'s package.json',
      };
    }
    const missing = scan.missing[0];
    if (missing) {
      const target = posix.normalize(posix.join(posix.dirname(missing.at.file), missing.specifier));
      const candidates = posix.extname(target) ? target : `${target}.ts (or .js, or ${target}/index.ts)`;
      return {
        code: 'E_CDKTF_IMPORT_FILE',
        text: `${missing.specifier} does not exist in the repository at this commit`,
        location: missing.at,
        hint: `commit ${candidates}, or fix the import in ${missing.at.file}; file names are case-sensitive on the control host`,
      };
    }
    const specifier = notFoundSpecifier(message);
    if (specifier && isBare(specifier)) return missingPackage(packageName(specifier), scan.packages.get(packageName(specifier)) ?? location, context);
    return {
      code: 'E_CDKTF_IMPORT_FILE',
      text,
      location,
      hint: 'the app loads a file that does not exist at this commit; commit it, or fix the path that names it',
    };
  }

  const subpath = /^Package subpath '([^']+)' is not defined by "exports" in (.+?)\/package\.json/.exec(message);
  if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' && subpath) {
    const name = packageNameOfFolder(subpath[2]!);
    const copy = name ? await context.installed(name) : null;
    return {
      code: 'E_CDKTF_IMPORT_EXPORT',
      text: `${name ?? 'the package'}${copy ? ` ${copy.version}` : ''} does not export ${subpath[1]}`,
      location,
      hint: `import ${name ?? 'the package'} by one of the paths its package.json "exports" lists (usually the package name alone); deep imports into a package's files work only where it allows them`,
    };
  }

  const namedExport = /^The requested module '([^']+)' does not provide an export named '([^']+)'/.exec(message);
  if (namedExport) {
    const [, specifier, exported] = namedExport as unknown as [string, string, string];
    const copy = isBare(specifier) ? await context.installed(packageName(specifier)) : null;
    if (report.exportPresent === true) {
      return {
        code: 'E_CDKTF_IMPORT_FORMAT',
        text: `${specifier} is a CommonJS module that has ${exported}, but not as an export Node can find for a named import`,
        location,
        hint: `import the module whole and take the name from it: \`import pkg from '${specifier}'; const { ${exported} } = pkg;\` (or, if ${exported} is the module itself, \`import ${exported} from '${specifier}'\`)`,
      };
    }
    return exportMissing(specifier, exported, copy, location, context);
  }

  // CommonJS output of tsx turns a missing named import into `undefined` at its first use.
  const undefinedImport = /^import_\w+\.(\w+) is not a (constructor|function)$/.exec(message);
  if (report.name === 'TypeError' && undefinedImport && location) {
    const specifier = await importingSpecifier(location.file, undefinedImport[1]!, context);
    if (specifier) return exportMissing(specifier, undefinedImport[1]!, isBare(specifier) ? await context.installed(packageName(specifier)) : null, location, context, true);
  }

  if (code && REQUIRE_ESM.has(code)) {
    return {
      code: 'E_CDKTF_IMPORT_FORMAT',
      text,
      location,
      hint:
        `a CommonJS app cannot require this ES module: make the entry an ES module (rename ${posix.basename(app.entry)} to .mts, or set "type": "module" ` +
        `in ${inFolder(app.appPath, 'package.json')}), or pin a version of the package that ships CommonJS`,
    };
  }
  return null;
}

function exportMissing(
  specifier: string,
  exported: string,
  copy: PackageCopy | null,
  location: Location | undefined,
  context: FailureContext,
  maybeNotClass = false,
): Described {
  const from = copy ? `${specifier} (${copy.version}, ${copy.bundled ? 'bundled with Plumbline' : `from ${inFolder(context.app.appPath, 'package-lock.json')}`})` : specifier;
  return {
    code: 'E_CDKTF_IMPORT_EXPORT',
    text: maybeNotClass ? `${exported}, imported from ${from}, is undefined or not callable: it exports nothing of that name, or not a class` : `${from} has no export named ${exported}`,
    location,
    hint: `check the name against the version the app gets (${copy ? `${copy.name} ${copy.version}` : specifier}): fix the import, or pin the version that has it in the app's package.json`,
  };
}

function missingPackage(name: string, at: Location | undefined, context: FailureContext): Described {
  const { app, declared } = context;
  const packageJson = inFolder(app.appPath, 'package.json');
  const folder = shown(app.appPath);
  const bundled = `Plumbline bundles ${BUNDLED_PACKAGES.join(', ')}`;
  if (declared === null) {
    return {
      code: 'E_CDKTF_IMPORT_PACKAGE',
      text: `${name} is not installed: the app has no package.json, and ${bundled} only`,
      location: at,
      hint: `give the app a package.json that declares ${name}: run \`npm install ${name}\` in ${folder} and commit package.json and package-lock.json`,
    };
  }
  if (!declared.has(name)) {
    return {
      code: 'E_CDKTF_IMPORT_PACKAGE',
      text: `${name} is not declared in ${packageJson} (${bundled})`,
      location: at,
      hint: `run \`npm install ${name}\` in ${folder} and commit package.json and package-lock.json`,
    };
  }
  return {
    code: 'E_CDKTF_IMPORT_PACKAGE',
    text: `${name} is declared in ${packageJson} but \`npm ci\` did not install it`,
    location: at,
    hint: `run \`npm install\` in ${folder} and commit the package-lock.json it writes; check that ${name} is not an optional dependency that failed to install`,
  };
}

/** `Cannot find package 'x' imported from …` (ES modules), `Cannot find module 'x'` (CommonJS). */
export function notFoundSpecifier(message: string): string | null {
  return /^Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1] ?? null;
}

/** `…/node_modules/@scope/name` → `@scope/name`. */
function packageNameOfFolder(folder: string): string | null {
  const rest = folder.split('/node_modules/').at(-1);
  return rest && rest !== folder ? packageName(rest) : null;
}

/** The module a file imports `name` from (`import { name } from 'x'`, `import { name as y } from 'x'`). */
async function importingSpecifier(file: string, name: string, context: FailureContext): Promise<string | null> {
  const text = await readFile(context.fileOf(file), 'utf8').catch(() => '');
  for (const match of text.matchAll(/import\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g)) {
    const names = match[1]!.split(',').map((part) => part.trim().split(/\s+as\s+/)[0]!.replace(/^type\s+/, ''));
    if (names.includes(name)) return match[2]!;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Locations

/** tsx names a `.mts` or `.cts` file it failed to compile with `.ts`: the file that exists. */
async function existingVariant(file: string, context: FailureContext): Promise<string> {
  if (!file.endsWith('.ts') || (await pathExists(context.fileOf(file)))) return file;
  for (const variant of [file.replace(/\.ts$/, '.mts'), file.replace(/\.ts$/, '.cts')]) {
    if (await pathExists(context.fileOf(variant))) return variant;
  }
  return file;
}

/** tsx reports syntax errors as esbuild's "Transform failed": `<file>:<line>:<col>: ERROR: <text>`. */
export function parseTransformError(message: string, paths: PathMapper): { location: Location; text: string } | null {
  for (const line of message.split('\n')) {
    const match = /^(.+?):(\d+):(\d+): ERROR: (.*)$/.exec(line.trim());
    if (!match) continue;
    const file = paths.toRepository(match[1]!);
    if (!file) continue;
    // esbuild columns are 0-based; editors and tsc count from 1.
    return { location: { file, line: Number(match[2]), column: Number(match[3]) + 1 }, text: match[4]! };
  }
  return null;
}

/** The first stack frame in the repository's own code (not in node_modules, not Node's). */
export function firstOwnFrame(stack: string, paths: PathMapper): Location | undefined {
  for (const line of stack.split('\n')) {
    const match = /^\s*at (?:.*?\()?((?:file:\/\/)?\/[^()]*?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!match) continue;
    const file = paths.toRepository(match[1]!);
    if (file && !file.split('/').includes('node_modules')) return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

/** Node's own report of an uncaught error starts with `<file>:<line>`. */
function uncaughtHeader(stderr: string, paths: PathMapper): Location | undefined {
  for (const line of stderr.split('\n').slice(0, 5)) {
    const match = /^((?:file:\/\/)?\/.+?):(\d+)$/.exec(line.trim());
    if (!match) continue;
    const file = paths.toRepository(match[1]!);
    if (file && !file.split('/').includes('node_modules')) return { file, line: Number(match[2]) };
  }
  return undefined;
}

function formatLocation(location: Location | Place): string {
  return `${location.file}:${location.line}${location.column !== undefined ? `:${location.column}` : ''}`;
}

/** The entry as a path from the app folder, for `npx tsx <entry>`. */
function entryFromApp(app: AppLocation): string {
  return app.appPath === '' ? app.entry : posix.relative(app.appPath, app.entry);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function limit(text: string, maxLines = 20, maxChars = 4000): string {
  const lines = text.trim().split('\n');
  const kept = lines.slice(0, maxLines).join('\n');
  const cut = kept.length > maxChars ? `${kept.slice(0, maxChars)}…` : kept;
  return lines.length > maxLines ? `${cut}\n… (${lines.length - maxLines} more lines)` : cut;
}

function lastLines(text: string, count = 10): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-count)
    .join('\n');
}
