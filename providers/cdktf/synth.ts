import { mkdir, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { StackSpec, UnitDefinition } from '../../engine/definitions/types.ts';
import { ToolError } from '../../engine/errors.ts';
import { run, type ExecResult } from '../../engine/exec.ts';
import type { Logger } from '../../engine/log.ts';
import { secrets } from '../../engine/secrets.ts';
import { BUNDLED_PACKAGES, prepareModules, type ModuleSetup } from './modules.ts';
import { pathExists } from '../../engine/fs.ts';

/**
 * Synthesis: run a stack's TypeScript entry in its own Node process, the way the
 * cdktf CLI would, and find the Terraform JSON it wrote.
 *
 *   node --require report-errors.cjs --import <tsx> [--import register-fallback.mjs] ./main.ts
 *
 * with CDKTF_OUTDIR pointing at `<workdir>/cdktf.out`. The output stays in the
 * workdir, which the engine keeps between plan and apply, so apply runs against
 * exactly the folder that was planned.
 */

const RUNTIME_DIR = join(dirname(fileURLToPath(import.meta.url)), 'runtime');
const REPORT_PRELOAD = join(RUNTIME_DIR, 'report-errors.cjs');
const FALLBACK_REGISTER = join(RUNTIME_DIR, 'register-fallback.mjs');

/** Folder (inside the workdir) the app synthesizes into. */
export const OUT_FOLDER = 'cdktf.out';
const REPORT_FILE = '.plumbline-synth-error.json';
const ANY_EXIT_CODE: readonly number[] = Array.from({ length: 256 }, (_, code) => code);
/** The context key cdktf reads to leave stack traces out of construct metadata. */
const DISABLE_STACK_TRACES = '@cdktf/disable_stack_trace_in_metadata';

export interface SynthOptions {
  unit: UnitDefinition;
  /** Writable copy of the stack folder (see RunRequest.workdir). */
  workdir: string;
  /** Plumbline's installation: tsx and the bundled libraries live in its node_modules. */
  installRoot: string;
  /** The daemon's state directory (dependency install cache). */
  stateDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
  log?: Logger;
  /** Node executable; defaults to the one running the daemon. */
  node?: string;
  npm?: string;
}

export interface SynthResult {
  /** The selected stack's name (its construct id). */
  stackName: string;
  /** Absolute folder holding the stack's synthesized Terraform configuration. */
  stackDir: string;
  /** Absolute output folder of the whole app. */
  outDir: string;
  /** How the stack's imports were provided; absent when an earlier synthesis was reused. */
  modules?: ModuleSetup;
  /** Wall time of the synthesis process (0 when reused). */
  durationMs: number;
}

/** Synthesize the unit's app into `<workdir>/cdktf.out` and pick its stack. */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const { unit, workdir } = options;
  const entry = entryOf(unit);
  const paths = await pathMapper(options);
  await requireEntry(unit, workdir, entry);

  const modules = await prepareModules({
    workdir,
    unitPath: unit.path,
    installRoot: options.installRoot,
    stateDir: options.stateDir,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    log: options.log,
    npm: options.npm,
  });

  const outDir = join(workdir, OUT_FOLDER);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const reportFile = join(outDir, REPORT_FILE);

  const commonJsOnly = ['.cts', '.cjs'].includes(extname(entry));
  const requireFromInstall = createRequire(join(options.installRoot, 'package.json'));
  const args = ['--require', REPORT_PRELOAD];
  if (commonJsOnly) {
    // With any ES module hook registered, Node 20 loads a .cts entry through its
    // ES module loader, which breaks on cdktf's circular requires. CommonJS
    // entries get the CommonJS half of the loader only.
    args.push('--require', requireFromInstall.resolve('tsx/cjs'));
  } else {
    args.push('--import', requireFromInstall.resolve('tsx'), '--import', FALLBACK_REGISTER);
  }
  args.push(`./${entry}`);

  const env: Record<string, string | undefined> = {
    CDKTF_OUTDIR: outDir,
    CDKTF_CONTEXT_JSON: JSON.stringify({ ...(await cdktfJsonContext(workdir, options.log)), [DISABLE_STACK_TRACES]: true }),
    // Terraform JSON, every stack, errors fail the synthesis: whatever the daemon's environment says.
    SYNTH_HCL_OUTPUT: 'false',
    CDKTF_TARGET_STACK_ID: undefined,
    CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: undefined,
    // Files outside the stack folder resolve bare imports like the stack does.
    NODE_PATH: modules.nodeModules,
    PLUMBLINE_CDKTF_FALLBACK: JSON.stringify([modules.nodeModules]),
    PLUMBLINE_CDKTF_REPORT: reportFile,
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };

  const started = performance.now();
  const result = await run(options.node ?? process.execPath, args, {
    cwd: workdir,
    env,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    log: options.log,
    // Every exit code comes back here: a failure is described from the error report below.
    okExitCodes: ANY_EXIT_CODE,
  });
  if (result.exitCode !== 0) throw await synthError(unit, entry, reportFile, result, paths);
  const durationMs = Math.round(performance.now() - started);
  if (result.stdout.trim() !== '' || result.stderr.trim() !== '') {
    options.log?.debug({ stdout: tail(paths.scrub(result.stdout)), stderr: tail(paths.scrub(result.stderr)) }, 'cdktf app output');
  }

  const selected = await selectStack(unit, outDir, entry, options.log);
  await relativizeDefaultBackend(selected.stackFile, selected.stackName, [workdir, paths.workdirReal]);
  options.log?.info({ stack: selected.stackName, durationMs, modules: modules.source }, 'cdktf app synthesized');
  return { stackName: selected.stackName, stackDir: selected.stackDir, outDir, modules, durationMs };
}

/**
 * The synthesis a plan left in the workdir, or null if there is none (the
 * workdir was rebuilt): apply uses exactly what was planned.
 */
export async function findSynthesized(options: Pick<SynthOptions, 'unit' | 'workdir' | 'log'>): Promise<SynthResult | null> {
  const outDir = join(options.workdir, OUT_FOLDER);
  if (!(await pathExists(join(outDir, 'manifest.json')))) return null;
  const selected = await selectStack(options.unit, outDir, entryOf(options.unit), options.log);
  if (!(await pathExists(selected.stackFile))) return null;
  return { stackName: selected.stackName, stackDir: selected.stackDir, outDir, durationMs: 0 };
}

/** The entry's path relative to the stack folder (`main.ts` for `stacks/network/main.ts`). */
export function entryOf(unit: UnitDefinition): string {
  const spec = unit.spec as Partial<StackSpec>;
  const declared = spec.entry ?? `${unit.path}/main.ts`;
  const prefix = `${unit.path}/`;
  const relative = declared.startsWith(prefix) ? posix.normalize(declared.slice(prefix.length)) : null;
  if (relative === null || relative === '' || relative.startsWith('../') || relative === '..' || posix.isAbsolute(relative)) {
    throw new ToolError('E_CDKTF_ENTRY', `${unit.file}: entry ${declared} is not inside the stack folder ${unit.path}`, {
      retry: 'stalled',
      hint: `set \`entry\` to a file inside ${unit.path}, for example \`entry: main.ts\``,
    });
  }
  return relative;
}

async function requireEntry(unit: UnitDefinition, workdir: string, entry: string): Promise<void> {
  if (await pathExists(join(workdir, entry))) return;
  throw new ToolError('E_CDKTF_ENTRY', `${unit.file}: entry ${unit.path}/${entry} does not exist`, {
    retry: 'stalled',
    hint: `commit ${unit.path}/${entry}, or point \`entry\` in ${unit.file} at the file that builds the app`,
  });
}

// ---------------------------------------------------------------------------
// The manifest and the stack

const manifestSchema = z.object({
  version: z.string(),
  stacks: z.record(
    z.string(),
    z.object({
      name: z.string(),
      constructPath: z.string().optional(),
      workingDirectory: z.string(),
      synthesizedStackPath: z.string(),
      annotations: z
        .array(z.object({ constructPath: z.string(), level: z.string(), message: z.unknown() }))
        .default([]),
      dependencies: z.array(z.string()).default([]),
    }),
  ),
});

interface SelectedStack {
  stackName: string;
  stackDir: string;
  stackFile: string;
}

async function selectStack(unit: UnitDefinition, outDir: string, entry: string, log?: Logger): Promise<SelectedStack> {
  const entryPath = `${unit.path}/${entry}`;
  let text: string;
  try {
    text = await readFile(join(outDir, 'manifest.json'), 'utf8');
  } catch {
    throw new ToolError('E_CDKTF_MANIFEST', `${entryPath} ran but did not synthesize anything (no manifest.json was written)`, {
      retry: 'stalled',
      hint: 'the entry must create an App and call app.synth() at the end, without setting its own outdir',
    });
  }
  let parsed: z.infer<typeof manifestSchema>;
  try {
    parsed = manifestSchema.parse(JSON.parse(text));
  } catch (error) {
    throw new ToolError('E_CDKTF_MANIFEST', `the manifest.json written by ${entryPath} is not one this version of Plumbline understands`, {
      retry: 'stalled',
      hint: `Plumbline supports apps built with cdktf 0.20 and later; ${error instanceof Error ? error.message.split('\n')[0] : ''}`.trim(),
      cause: error,
    });
  }

  const names = Object.keys(parsed.stacks).sort();
  const wanted = (unit.spec as Partial<StackSpec>).stackName ?? null;
  let name: string;
  if (wanted !== null) {
    if (!parsed.stacks[wanted]) {
      throw new ToolError('E_CDKTF_STACK', `${entryPath} has no stack named ${wanted} (it synthesizes: ${names.join(', ') || 'none'})`, {
        retry: 'stalled',
        hint: `set \`stackName\` in ${unit.file} to one of: ${names.join(', ')}`,
      });
    }
    name = wanted;
  } else if (names.length === 1) {
    name = names[0]!;
  } else if (names.length === 0) {
    throw new ToolError('E_CDKTF_STACK', `${entryPath} synthesized an app without any stack`, {
      retry: 'stalled',
      hint: 'create a TerraformStack inside the App before calling app.synth()',
    });
  } else {
    throw new ToolError('E_CDKTF_STACK', `${entryPath} synthesizes ${names.length} stacks (${names.join(', ')}); ${unit.file} must say which one this unit is`, {
      retry: 'stalled',
      hint: `add \`stackName: <one of ${names.join(', ')}>\` to ${unit.file}; define one unit per stack`,
    });
  }
  const stack = parsed.stacks[name]!;
  for (const annotation of stack.annotations) {
    if (/warn/i.test(annotation.level)) {
      log?.warn({ construct: annotation.constructPath, message: String(annotation.message) }, 'cdktf warning');
    }
  }
  const stackFile = join(outDir, stack.synthesizedStackPath);
  const stackDir = join(outDir, stack.workingDirectory);
  if (!isInside(outDir, stackFile) || !isInside(outDir, stackDir)) {
    throw new ToolError('E_CDKTF_MANIFEST', `the manifest.json written by ${entryPath} points outside its output folder`, { retry: 'stalled' });
  }
  return { stackName: name, stackDir, stackFile };
}

/**
 * cdktf writes its default local backend as an absolute path into the folder
 * it ran in (`<workdir>/terraform.<stack>.tfstate`), a temporary copy here.
 * Turn that default back into the relative path it stands for, which the
 * Terraform tooling keeps in the unit's own state folder. A path the stack set
 * itself is left alone.
 */
export async function relativizeDefaultBackend(stackFile: string, stackName: string, workdirs: readonly string[]): Promise<boolean> {
  if (!stackFile.endsWith('.json')) return false;
  const config = JSON.parse(await readFile(stackFile, 'utf8')) as { terraform?: { backend?: { local?: { path?: unknown } } } };
  const local = config.terraform?.backend?.local;
  const fileName = `terraform.${stackName}.tfstate`;
  if (!local || typeof local.path !== 'string') return false;
  if (!workdirs.some((dir) => local.path === join(dir, fileName))) return false;
  local.path = fileName;
  await writeFile(stackFile, `${JSON.stringify(config, null, 2)}\n`);
  return true;
}

/** Context from the stack's cdktf.json, as the cdktf CLI would pass it. */
async function cdktfJsonContext(workdir: string, log?: Logger): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(join(workdir, 'cdktf.json'), 'utf8');
  } catch {
    return {};
  }
  const parsed = z.object({ context: z.record(z.string(), z.unknown()).optional() }).safeParse(safeJson(text));
  if (!parsed.success) {
    log?.warn({}, 'ignoring cdktf.json: not a JSON object');
    return {};
  }
  return parsed.data.context ?? {};
}

// ---------------------------------------------------------------------------
// Errors

const reportSchema = z.object({
  name: z.string().default('Error'),
  code: z.string().optional(),
  message: z.string().default(''),
  stack: z.string().default(''),
});

interface Location {
  file: string;
  line: number;
  column?: number;
}

/** Describe a failed synthesis: file:line:column of the stack's own code, and the error. */
async function synthError(
  unit: UnitDefinition,
  entry: string,
  reportFile: string,
  result: ExecResult,
  paths: PathMapper,
): Promise<ToolError> {
  const { stderr } = result;
  const entryPath = `${unit.path}/${entry}`;
  const report = reportSchema.safeParse(safeJson(await readFile(reportFile, 'utf8').catch(() => '')));

  let location: Location | undefined;
  let text: string;
  let kind: 'syntax' | 'module' | 'esm' | 'exception' | 'exit';
  if (report.success) {
    const { name, code, message, stack } = report.data;
    const syntax = parseTransformError(message, paths);
    if (syntax) {
      location = syntax.location;
      text = `syntax error: ${syntax.text}`;
      kind = /top-level await/i.test(syntax.text) ? 'esm' : 'syntax';
    } else {
      location = firstOwnFrame(stack, paths) ?? uncaughtHeader(stderr, paths);
      text = `${name}: ${message}`;
      kind =
        code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(message)
          ? 'module'
          : name === 'SyntaxError'
            ? 'syntax'
            : 'exception';
    }
  } else {
    location = uncaughtHeader(stderr, paths);
    text = lastLines(stderr) || `the app exited with code ${result.exitCode}`;
    kind = 'exit';
  }

  const where = location ? `${location.file}:${location.line}${location.column !== undefined ? `:${location.column}` : ''}` : entryPath;
  const message = secrets.maskText(`cdktf synth failed at ${where}: ${paths.scrub(limit(text))}`);
  const file = location?.file ?? entryPath;
  const hints: Record<typeof kind, string> = {
    syntax: `fix the syntax in ${file} and commit; \`npx tsc --noEmit\` in the stack folder catches this before a push`,
    esm:
      `top-level await needs an ES module entry: rename it to ${entry.replace(/\.ts$/, '.mts')}, or give ${unit.path} ` +
      'a package.json with "type": "module" (and its package-lock.json)',
    module:
      `the stack imports a package Plumbline does not bundle (it bundles ${BUNDLED_PACKAGES.join(', ')}): add a package.json ` +
      `declaring it and its package-lock.json to ${unit.path}`,
    exception: `the stack threw while building its constructs; run \`npx tsx ${entry}\` in ${unit.path} to reproduce`,
    exit: `the app exited with an error; run \`npx tsx ${entry}\` in ${unit.path} to reproduce`,
  };
  return new ToolError('E_CDKTF_SYNTH', message, {
    retry: 'stalled',
    hint: hints[kind],
    details: location ? { file: location.file, line: location.line, ...(location.column !== undefined ? { column: location.column } : {}) } : undefined,
  });
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

// ---------------------------------------------------------------------------
// Paths in messages

export interface PathMapper {
  workdirReal: string;
  /** Repository-relative form of an absolute path or file URL, or null if it is not in the repository. */
  toRepository(path: string): string | null;
  /** Replace every absolute path Plumbline knows with its repository-relative (or neutral) form. */
  scrub(text: string): string;
}

/**
 * The workdir is `<tree>/<unit.path>`, and the rest of `<tree>` links into a
 * read-only snapshot of the repository; Node reports files under their real
 * paths, so both the workdir and the snapshot map back to repository paths.
 */
export async function pathMapper(options: Pick<SynthOptions, 'unit' | 'workdir' | 'installRoot' | 'stateDir'>): Promise<PathMapper> {
  const { unit, workdir } = options;
  const workdirReal = await realpath(workdir).catch(() => workdir);
  const roots: Array<[string, string]> = [
    [workdir, unit.path],
    [workdirReal, unit.path],
  ];
  for (const root of await repositoryRoots(workdir, unit.path)) roots.push([root, '']);
  const neutral: Array<[string, string]> = [
    [options.installRoot, '<plumbline>'],
    [options.stateDir, '<state>'],
  ];

  const toRepository = (input: string): string | null => {
    const path = input.startsWith('file://') ? safeFileUrl(input) : input;
    if (path === null) return null;
    for (const [root, repo] of [...roots].sort((a, b) => b[0].length - a[0].length)) {
      if (path === root) return repo || '.';
      if (path.startsWith(`${root}/`)) {
        const rest = path.slice(root.length + 1);
        return repo ? `${repo}/${rest}` : rest;
      }
    }
    return null;
  };

  const replacements = [...roots, ...neutral]
    .filter(([from]) => from.length > 1)
    .sort((a, b) => b[0].length - a[0].length)
    .map(([from, to]) => ({ pattern: new RegExp(`(?:file://)?${escapeRegExp(from)}(/|(?![\\w.@-]))`, 'g'), to }));
  const scrub = (text: string): string => {
    let out = text;
    // `<root>/x` becomes `x` for the repository roots, `stacks/web/x` or `<plumbline>/x` for the others.
    for (const { pattern, to } of replacements) {
      out = out.replace(pattern, (_match, slash: string) => (to === '' ? (slash ? '' : '.') : `${to}${slash}`));
    }
    return out;
  };
  return { workdirReal, toRepository, scrub };
}

async function repositoryRoots(workdir: string, unitPath: string): Promise<string[]> {
  if (!workdir.endsWith(`/${unitPath}`)) return [];
  const tree = workdir.slice(0, -(unitPath.length + 1));
  const roots = new Set<string>([tree, await realpath(tree).catch(() => tree)]);
  let level = tree;
  let prefix = '';
  for (const segment of unitPath.split('/')) {
    for (const entry of await readdir(level, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isSymbolicLink()) continue;
      const target = await realpath(join(level, entry.name)).catch(() => null);
      const suffix = `/${prefix}${entry.name}`;
      if (target?.endsWith(suffix)) {
        roots.add(target.slice(0, -suffix.length));
        return [...roots];
      }
    }
    level = join(level, segment);
    prefix = `${prefix}${segment}/`;
  }
  return [...roots];
}

// ---------------------------------------------------------------------------
// Small helpers

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeFileUrl(url: string): string | null {
  try {
    return fileURLToPath(url);
  } catch {
    return null;
  }
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

function tail(text: string, chars = 2000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}

