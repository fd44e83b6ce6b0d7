import { createHash, randomUUID } from 'node:crypto';
import { copyFile, lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { homedir } from 'node:os';
import { type DaemonConfig, type ExecResult, type Logger, pathExists, run, sandboxFor, sandboxSettings, ToolError } from '../../engine/provider-kit.ts';
import { inFolder, shown } from './app.ts';

/**
 * Where a stack's `import 'cdktf'` comes from. The app's folder (see app.ts:
 * the stack folder, or the folder of a shared app elsewhere in the repository)
 * decides; the links are always made in the stack's own writable copy, and
 * files outside it find them through the fallback resolution synth.ts sets up.
 *
 * - An app without a package.json uses the libraries Plumbline ships
 *   (cdktf, constructs, @cdktf/provider-aws): `<workdir>/node_modules` becomes a
 *   link to Plumbline's own node_modules.
 * - An app with its own package.json and package-lock.json brings its own
 *   dependencies (another provider, another toolkit...). They are installed
 *   once per lockfile content with `npm ci --ignore-scripts` into
 *   `<stateDir>/cdktf-modules/<sha256 of the lockfile>/` and reused by every run
 *   after that. `<workdir>/node_modules` then becomes a folder of links: every
 *   package of that install, plus the bundled toolkit packages the stack did
 *   not pin itself.
 *
 * Links are resolved to their real location by Node, so a package is loaded
 * once, from one place, whichever file imports it.
 */

/** The toolkit packages a stack with its own package.json still gets from Plumbline unless it pins them. */
export const BUNDLED_PACKAGES: readonly string[] = ['cdktf', 'constructs', '@cdktf/provider-aws'];

const CACHE_FOLDER = 'cdktf-modules';
const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json'] as const;
/** Marks a `node_modules` folder Plumbline assembled (and may replace). */
const MARKER = '.plumbline-modules';
/** Leftovers of interrupted installs older than this are removed. */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

export interface ModuleSetup {
  /** The folder Node finds from the stack: `<workdir>/node_modules`. */
  nodeModules: string;
  /** How it was provided, for logs and tests. */
  source: 'bundled' | 'lockfile' | 'vendored';
  /** sha256 of the lockfile when `source` is `lockfile`. */
  lockHash?: string;
  /** True when this call ran `npm ci` (false: reused the cache or nothing to install). */
  installed: boolean;
  /** The install cache (`<stateDir>/cdktf-modules`): what the links lead into. */
  cache: string;
}

export interface ModuleOptions {
  /** Writable copy of the stack folder: the links to the app's packages are made here. */
  workdir: string;
  /** The app's folder (its package.json, lockfile, committed node_modules); read only. */
  appDir: string;
  /** Repository-relative app folder, for messages. */
  appPath: string;
  /** Plumbline's installation (holds the bundled node_modules). */
  installRoot: string;
  /** The daemon's state directory (holds the install cache). */
  stateDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
  log?: Logger;
  /** npm executable; tests may point elsewhere. */
  npm?: string;
  /** The unit whose packages these are (its sandbox grants apply to `npm ci`). */
  unit?: string;
  /** The daemon config's sandbox section (sandboxed with the defaults when absent). */
  config?: Pick<DaemonConfig, 'sandbox'>;
}

/** Make the stack's imports resolvable; install its own dependencies when it has any. */
export async function prepareModules(options: ModuleOptions): Promise<ModuleSetup> {
  const nodeModules = join(options.workdir, 'node_modules');
  const bundled = join(options.installRoot, 'node_modules');
  const cache = join(options.stateDir, CACHE_FOLDER);

  const committed = join(options.appDir, 'node_modules');
  const existing = await lstatOrNull(committed);
  if (existing && !existing.isSymbolicLink() && !(await pathExists(join(committed, MARKER)))) {
    // A node_modules folder committed with the app: it is what the author meant.
    options.log?.info({ app: options.appPath }, 'using the node_modules folder committed with the app');
    return { nodeModules: committed, source: 'vendored', installed: false, cache };
  }

  const own = await readOwnPackage(options);
  if (!own) {
    await replaceWithLink(nodeModules, bundled);
    return { nodeModules, source: 'bundled', installed: false, cache };
  }

  const { dir, installed } = await ensureInstalled(own, options);
  await assembleLinks(nodeModules, [join(dir, 'node_modules')], bundled);
  return { nodeModules, source: 'lockfile', lockHash: own.hash, installed, cache };
}

interface OwnPackage {
  /** Files to copy into the install folder (package.json, the lockfile, .npmrc). */
  files: string[];
  hash: string;
}

async function readOwnPackage(options: ModuleOptions): Promise<OwnPackage | null> {
  const packageJson = join(options.appDir, 'package.json');
  if (!(await pathExists(packageJson))) return null;
  let lockfile: string | undefined;
  for (const name of LOCKFILES) {
    if (await pathExists(join(options.appDir, name))) {
      lockfile = name;
      break;
    }
  }
  if (!lockfile) {
    throw new ToolError('E_CDKTF_LOCKFILE', `${inFolder(options.appPath, 'package.json')} has no package-lock.json next to it`, {
      retry: 'stalled',
      hint:
        `run \`npm install\` in ${shown(options.appPath)} and commit the package-lock.json it writes: Plumbline installs ` +
        'exactly what the lockfile pins (npm ci), never whatever is newest. Without a package.json the stack ' +
        `uses Plumbline's bundled ${BUNDLED_PACKAGES.join(', ')}.`,
    });
  }
  const hash = createHash('sha256')
    .update(await readFile(join(options.appDir, lockfile)))
    .digest('hex');
  const files = ['package.json', lockfile];
  if (await pathExists(join(options.appDir, '.npmrc'))) files.push('.npmrc');
  return { files: files.map((f) => join(options.appDir, f)), hash };
}

/** One install per cache folder at a time in this process; other processes are handled by the rename. */
const inflight = new Map<string, Promise<{ dir: string; installed: boolean }>>();

async function ensureInstalled(own: OwnPackage, options: ModuleOptions): Promise<{ dir: string; installed: boolean }> {
  const root = join(options.stateDir, CACHE_FOLDER);
  const dir = join(root, own.hash);
  // The folder only ever appears by an atomic rename of a finished install.
  if (await pathExists(dir)) return { dir, installed: false };
  const pending = inflight.get(dir);
  if (pending) return { dir: (await pending).dir, installed: false };
  const started = install(own, root, dir, options).finally(() => inflight.delete(dir));
  inflight.set(dir, started);
  return started;
}

async function install(own: OwnPackage, root: string, dir: string, options: ModuleOptions): Promise<{ dir: string; installed: boolean }> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  await removeStaleTemps(root);
  const temp = join(root, `.tmp-${own.hash.slice(0, 16)}-${process.pid}-${randomUUID().slice(0, 8)}`);
  await mkdir(temp, { mode: 0o700 });
  try {
    for (const file of own.files) await copyFile(file, join(temp, basename(file)));
    options.log?.info({ app: options.appPath, lockfile: own.hash.slice(0, 12) }, 'installing the stack dependencies');
    await run(options.npm ?? 'npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: temp,
      env: { npm_config_update_notifier: 'false', npm_config_progress: 'false', npm_config_loglevel: 'error' },
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      log: options.log,
      classify: (result) => classifyNpm(result, shown(options.appPath)),
      // `--ignore-scripts`: no code of the packages runs; npm sees the install
      // folder, the daemon user's npm configuration (registries) and cache.
      sandbox: sandboxFor(sandboxSettings(options.config ?? {}), options.unit ?? null, npmNeeds(temp)),
    });
    // A package without dependencies installs nothing; the stack still gets a folder to link.
    await mkdir(join(temp, 'node_modules'), { recursive: true });
    try {
      await rename(temp, dir);
      return { dir, installed: true };
    } catch (error) {
      // Another process finished the same install first: use theirs.
      if (await pathExists(dir)) return { dir, installed: false };
      throw error;
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** The install folder, and npm's user configuration and cache, which the sandbox's private home would hide. */
function npmNeeds(installDir: string) {
  const home = homedir();
  return {
    readOnly: [process.env.npm_config_userconfig ?? join(home, '.npmrc')],
    readWrite: [installDir, process.env.npm_config_cache ?? join(home, '.npm')],
  };
}

function classifyNpm(result: ExecResult, appFolder: string): { code: 'E_CDKTF_INSTALL'; hint: string; retry: 'stalled' | 'transient' } {
  const text = `${result.stderr}\n${result.stdout}`;
  if (/\b(ETIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN|ENOTFOUND|ENETUNREACH|socket hang up|network)\b/i.test(text)) {
    return {
      code: 'E_CDKTF_INSTALL',
      retry: 'transient',
      hint: 'the npm registry could not be reached from the control host; Plumbline retries',
    };
  }
  return {
    code: 'E_CDKTF_INSTALL',
    retry: 'stalled',
    hint: `run \`npm ci\` in ${appFolder} to reproduce; package.json and package-lock.json must agree (run \`npm install\` and commit both)`,
  };
}

async function removeStaleTemps(root: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(root)) {
    if (!name.startsWith('.tmp-')) continue;
    const info = await stat(join(root, name)).catch(() => null);
    if (info && now - info.mtimeMs > STALE_TEMP_MS) await rm(join(root, name), { recursive: true, force: true });
  }
}

async function replaceWithLink(path: string, target: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await symlink(target, path, 'dir');
}

/**
 * Build a node_modules folder of links: every top-level package of each layer
 * (the first layer that has a name wins), then the bundled toolkit packages that
 * none of them provides.
 */
async function assembleLinks(path: string, layers: readonly string[], bundled: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await mkdir(path);
  await writeFile(join(path, MARKER), 'assembled by Plumbline for this run; safe to delete\n');
  const taken = new Set<string>();
  const link = async (name: string, target: string): Promise<void> => {
    if (taken.has(name)) return;
    taken.add(name);
    const slash = name.indexOf('/');
    if (slash > 0) await mkdir(join(path, name.slice(0, slash)), { recursive: true });
    await symlink(target, join(path, name), 'dir');
  };
  for (const layer of layers) {
    for (const name of await packageNames(layer)) await link(name, join(layer, name));
  }
  for (const name of BUNDLED_PACKAGES) {
    if (await pathExists(join(bundled, name))) await link(name, join(bundled, name));
  }
}

/** Top-level package names in a node_modules folder (`name` and `@scope/name`). */
async function packageNames(nodeModules: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(nodeModules, { withFileTypes: true }).catch(() => [])) {
    if (entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      for (const inner of await readdir(join(nodeModules, entry.name))) {
        if (!inner.startsWith('.')) names.push(`${entry.name}/${inner}`);
      }
    } else {
      names.push(entry.name);
    }
  }
  return names.sort();
}


async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch {
    return null;
  }
}
