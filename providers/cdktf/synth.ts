import { mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, relative } from 'node:path';
import { z } from 'zod';
import { type DaemonConfig, type Logger, pathExists, run, sandboxFor, sandboxSettings, ToolError, type UnitDefinition, workspaceRoot } from '../../engine/provider-kit.ts';
import type { CdktfSpec } from './manifest.ts';
import { entryOf, inFolder, locateApp, runPath, type AppLocation } from './app.ts';
import { scanImports } from './imports.ts';
import { prepareModules, type ModuleSetup } from './modules.ts';
import { pathMapper, type PathMapper } from './repo-paths.ts';
import { synthError } from './synth-errors.ts';
import { describeMismatch, findVersionMismatches, installedCopy } from './versions.ts';

/**
 * Synthesis: run a CDKTF app's TypeScript entry in its own Node process, the
 * way the cdktf CLI would, in the app's folder, and find the Terraform JSON it
 * wrote.
 *
 *   node --require report-errors.cjs --require trace-constructs.cjs \
 *        --import <tsx> [--import register-fallback.mjs] ./main.ts
 *
 * with CDKTF_OUTDIR pointing at `<workdir>/cdktf.out`. The app may live outside
 * the unit folder (see app.ts), in the read-only snapshot: the only folder
 * written is the unit's own writable copy, which the engine keeps between plan
 * and apply, so apply runs against exactly the folder that was planned.
 */

/** The hooks the app runs with, loaded by path from the installation (not compiled into dist/). */
function runtimeFiles(installRoot: string) {
  const dir = join(installRoot, 'providers', 'cdktf', 'runtime');
  return { dir, report: join(dir, 'report-errors.cjs'), trace: join(dir, 'trace-constructs.cjs'), fallback: join(dir, 'register-fallback.mjs') };
}

/** Folder (inside the workdir) the app synthesizes into. */
export const OUT_FOLDER = 'cdktf.out';
const REPORT_FILE = '.plumbline-synth-error.json';
const ANY_EXIT_CODE: readonly number[] = Array.from({ length: 256 }, (_, code) => code);
/**
 * The context key cdktf reads to leave stack traces out of its annotations
 * (warnings and errors in manifest.json). Element traces in cdk.tf.json do not
 * depend on it (runtime/trace-constructs.cjs records them), so it stays set.
 */
const DISABLE_STACK_TRACES = '@cdktf/disable_stack_trace_in_metadata';

export interface SynthOptions {
  unit: UnitDefinition;
  /** Writable copy of the stack folder (see RunRequest.workdir). */
  workdir: string;
  /** The read-only repository at the run's revision (see RunRequest.repoDir). */
  repoDir: string;
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
  /** The daemon config's sandbox section (sandboxed with the defaults when absent). */
  config?: Pick<DaemonConfig, 'sandbox'>;
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
  /** What worked but should be fixed (two copies of a toolkit package). */
  warnings: string[];
}

/** Synthesize the unit's app into `<workdir>/cdktf.out` and pick its stack. */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const { unit, workdir } = options;
  const app = await locateApp(unit, workdir, options.repoDir);
  const paths = await pathMapper(options);
  const modules = await prepareModules({
    workdir,
    appDir: app.appDir,
    appPath: app.appPath,
    installRoot: options.installRoot,
    stateDir: options.stateDir,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    log: options.log,
    npm: options.npm,
    unit: unit.name,
    ...(options.config ? { config: options.config } : {}),
  });
  const bundledRoot = join(options.installRoot, 'node_modules');
  const mismatches = await findVersionMismatches(modules.nodeModules, bundledRoot);

  const outDir = join(workdir, OUT_FOLDER);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const reportFile = join(outDir, REPORT_FILE);

  const commonJsOnly = ['.cts', '.cjs'].includes(extname(app.entry));
  const requireFromInstall = createRequire(join(options.installRoot, 'package.json'));
  const runtime = runtimeFiles(options.installRoot);
  const args = ['--require', runtime.report, '--require', runtime.trace];
  if (commonJsOnly) {
    // With any ES module hook registered, Node 20 loads a .cts entry through its
    // ES module loader, which breaks on cdktf's circular requires. CommonJS
    // entries get the CommonJS half of the loader only.
    args.push('--require', requireFromInstall.resolve('tsx/cjs'));
  } else {
    args.push('--import', requireFromInstall.resolve('tsx'), '--import', runtime.fallback);
  }
  args.push(`./${relative(app.appDir, app.entryFile)}`);

  const env: Record<string, string | undefined> = {
    CDKTF_OUTDIR: outDir,
    CDKTF_CONTEXT_JSON: JSON.stringify({ ...(await cdktfJsonContext(app, options.log)), [DISABLE_STACK_TRACES]: true }),
    // Terraform JSON, every stack, errors fail the synthesis: whatever the daemon's environment says.
    SYNTH_HCL_OUTPUT: 'false',
    CDKTF_TARGET_STACK_ID: undefined,
    CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: undefined,
    // Files outside the folder of the app's packages resolve bare imports like the app does.
    NODE_PATH: modules.nodeModules,
    PLUMBLINE_CDKTF_FALLBACK: JSON.stringify([modules.nodeModules]),
    PLUMBLINE_CDKTF_REPORT: reportFile,
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };

  const started = performance.now();
  const result = await run(options.node ?? process.execPath, args, {
    // The app's folder, as the cdktf CLI runs it: files it reads by relative path are found.
    cwd: app.appDir,
    env,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    log: options.log,
    // Every exit code comes back here: a failure is described from the error report below.
    okExitCodes: ANY_EXIT_CODE,
    // The app is the repository's code: it sees its workspace (writing only
    // the unit's copy, where cdktf.out goes), the packages it imports and
    // Plumbline's preloads, nothing else of the daemon.
    sandbox: sandboxFor(sandboxSettings(options.config ?? {}), unit.name, {
      readOnly: [workspaceRoot(workdir, unit.path), options.repoDir, bundledRoot, runtime.dir, modules.cache],
      readWrite: [workdir],
    }),
  });
  if (result.exitCode !== 0) {
    throw await synthError({
      unit,
      app,
      reportFile,
      result,
      paths,
      mismatches,
      installed: (name) => installedCopy(modules.nodeModules, name, bundledRoot),
      declared: await declaredPackages(app),
      scan: () => scanImports({ entryFile: app.entryFile, repoPath: paths.toRepository }),
      fileOf: (path) => runPath(unit, workdir, options.repoDir, path),
    });
  }
  const durationMs = Math.round(performance.now() - started);
  if (result.stdout.trim() !== '' || result.stderr.trim() !== '') {
    options.log?.debug({ stdout: tail(paths.scrub(result.stdout)), stderr: tail(paths.scrub(result.stderr)) }, 'cdktf app output');
  }
  const warnings = mismatches.map((m) => describeMismatch(m, inFolder(app.appPath, 'package.json')));
  for (const warning of warnings) options.log?.warn({ app: app.appPath }, warning);

  const selected = await selectStack(unit, outDir, app.entry, options.log);
  await finishStackFile(selected, [app.appDir, await realpath(app.appDir).catch(() => app.appDir)], paths);
  options.log?.info({ stack: selected.stackName, durationMs, modules: modules.source }, 'cdktf app synthesized');
  return { stackName: selected.stackName, stackDir: selected.stackDir, outDir, modules, durationMs, warnings };
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
  return { stackName: selected.stackName, stackDir: selected.stackDir, outDir, durationMs: 0, warnings: [] };
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

async function selectStack(unit: UnitDefinition, outDir: string, entryPath: string, log?: Logger): Promise<SelectedStack> {
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
  const wanted = (unit.spec as Partial<CdktfSpec>).stackName ?? null;
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
 * Two fixes to the synthesized stack file, written back once:
 *
 * - cdktf writes its default local backend as an absolute path into the folder
 *   it ran in (`<app folder>/terraform.<stack>.tfstate`), a temporary path
 *   here. That default goes back to the relative path it stands for, which the
 *   Terraform tooling keeps in the unit's own state folder. A path the stack
 *   set itself is left alone.
 * - The creation traces in each block's `//` metadata name files by their
 *   paths in this run: they become repository paths, so the file reads the
 *   same in every run and maps straight back to the app's code.
 */
export async function finishStackFile(stack: SelectedStack, runDirs: readonly string[], paths: PathMapper): Promise<void> {
  if (!stack.stackFile.endsWith('.json')) return;
  const text = await readFile(stack.stackFile, 'utf8');
  const config = JSON.parse(text) as { terraform?: { backend?: { local?: { path?: unknown } } } };
  const local = config.terraform?.backend?.local;
  const fileName = `terraform.${stack.stackName}.tfstate`;
  if (local && typeof local.path === 'string' && runDirs.some((dir) => local.path === join(dir, fileName))) local.path = fileName;
  scrubTraces(config, paths);
  const finished = `${JSON.stringify(config, null, 2)}\n`;
  if (finished !== text) await writeFile(stack.stackFile, finished);
}

/** Every `stackTrace` array in `//` metadata, its frames made repository-relative. */
function scrubTraces(value: unknown, paths: PathMapper): void {
  if (!value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) scrubTraces(item, paths);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(record)) {
    if (key === 'stackTrace' && Array.isArray(child)) record[key] = child.map((frame) => (typeof frame === 'string' ? paths.scrub(frame) : frame));
    else scrubTraces(child, paths);
  }
}

/** Context from the app's cdktf.json, as the cdktf CLI would pass it. */
async function cdktfJsonContext(app: AppLocation, log?: Logger): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(join(app.appDir, 'cdktf.json'), 'utf8');
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
// Small helpers

/** The packages the app's package.json declares (any kind of dependency); null without one. */
async function declaredPackages(app: AppLocation): Promise<Set<string> | null> {
  const text = await readFile(join(app.appDir, 'package.json'), 'utf8').catch(() => null);
  if (text === null) return null;
  const fields = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;
  const parsed = z.object(Object.fromEntries(fields.map((f) => [f, z.record(z.string(), z.unknown()).optional()]))).safeParse(safeJson(text));
  return new Set(parsed.success ? fields.flatMap((f) => Object.keys(parsed.data[f] ?? {})) : []);
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function tail(text: string, chars = 2000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}
