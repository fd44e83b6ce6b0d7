import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { pathExists } from '../../engine/provider-kit.ts';
import { BUNDLED_PACKAGES } from './modules.ts';

/**
 * Toolkit version mismatches. A stack that pins some of cdktf, constructs and
 * @cdktf/provider-aws itself gets the others from Plumbline; each package then
 * loads its peers from where it lives, and two copies of one peer end up in one
 * construct tree. cdktf's classes check each other's internals, so the stack
 * dies far from the cause (`TypeError: scope.node._scopes is not iterable`).
 *
 * Found from the installed packages' package.json files alone (no process):
 * for every toolkit package the app sees, the copy of each peer it loads must
 * be the copy the app itself loads.
 */

export interface PackageCopy {
  name: string;
  version: string;
  /** Real folder of the package. */
  dir: string;
  /** Where it comes from: Plumbline's installation, or the app's own packages. */
  bundled: boolean;
  /** An ES module package (`"type": "module"`); CommonJS otherwise. */
  module: boolean;
}

export interface VersionMismatch {
  /** The package loaded twice (`constructs`). */
  name: string;
  /** The copy the app's own code imports. */
  app: PackageCopy;
  /** The toolkit package that loads the other copy (`cdktf`). */
  consumer: PackageCopy;
  /** The copy the consumer loads. */
  consumed: PackageCopy;
  /** The range the consumer asks for (`^10.4.2`), when it declares one. */
  wanted?: string;
}

const manifestSchema = z.looseObject({
  name: z.string(),
  version: z.string(),
  type: z.string().optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  peerDependencies: z.record(z.string(), z.string()).optional(),
});

/** The copy of `name` that code resolving from `nodeModules` loads, null when there is none. */
export async function installedCopy(nodeModules: string, name: string, bundledRoot: string): Promise<PackageCopy | null> {
  const found = await readCopy(join(nodeModules, name), await realpath(bundledRoot).catch(() => bundledRoot));
  return found ? copyOf(found) : null;
}

/**
 * Mismatches seen from `nodeModules` (the folder the app resolves its bare
 * imports from); `bundledRoot` is Plumbline's own node_modules.
 */
export async function findVersionMismatches(nodeModules: string, bundledRoot: string): Promise<VersionMismatch[]> {
  const bundledReal = await realpath(bundledRoot).catch(() => bundledRoot);
  const mismatches: VersionMismatch[] = [];
  for (const consumerName of BUNDLED_PACKAGES) {
    const found = await readCopy(join(nodeModules, consumerName), bundledReal);
    if (!found) continue;
    const { ranges, ...consumer } = found;
    for (const peer of BUNDLED_PACKAGES) {
      if (peer === consumerName || ranges[peer] === undefined) continue;
      const app = await readCopy(join(nodeModules, peer), bundledReal);
      const loadedDir = await nearestPackage(consumer.dir, peer);
      const consumed = loadedDir ? await readCopy(loadedDir, bundledReal) : null;
      if (!app || !consumed || app.dir === consumed.dir) continue;
      mismatches.push({ name: peer, app: copyOf(app), consumer, consumed: copyOf(consumed), wanted: ranges[peer] });
    }
  }
  return mismatches;
}

async function readCopy(packageDir: string, bundledReal: string): Promise<(PackageCopy & { ranges: Record<string, string> }) | null> {
  const dir = await realpath(packageDir).catch(() => null);
  if (!dir) return null;
  const manifest = manifestSchema.safeParse(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => 'null')));
  if (!manifest.success) return null;
  const { name, version, type, dependencies, peerDependencies } = manifest.data;
  return { name, version, dir, bundled: dir.startsWith(`${bundledReal}/`), module: type === 'module', ranges: { ...dependencies, ...peerDependencies } };
}

function copyOf({ name, version, dir, bundled, module }: PackageCopy): PackageCopy {
  return { name, version, dir, bundled, module };
}

/** Node's lookup of `name` from inside `packageDir`: its own node_modules, then each parent's. */
async function nearestPackage(packageDir: string, name: string): Promise<string | null> {
  for (let dir = packageDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (basename(dir) !== 'node_modules' && (await pathExists(join(candidate, 'package.json')))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/** One sentence per mismatch: which copies, and who loads them. */
export function describeMismatch(mismatch: VersionMismatch, appPackage: string): string {
  const { name, app, consumer, consumed } = mismatch;
  const origin = (copy: PackageCopy): string => (copy.bundled ? "Plumbline's bundled" : `${appPackage}'s`);
  return (
    `two copies of ${name} are loaded: ${app.version} (${origin(app)}), which the app imports, and ${consumed.version}, ` +
    `which ${origin(consumer)} ${consumer.name} ${consumer.version} loads`
  );
}

/** How to fix it: one version of the package, or the consumer from the app's own lockfile too. */
export function mismatchHint(mismatch: VersionMismatch, appPackage: string, appFolder: string): string {
  const { name, app, consumer, consumed, wanted } = mismatch;
  const version = wanted ?? consumed.version;
  const pinConsumer = consumer.bundled
    ? `or add ${consumer.name} at a version made for ${name} ${app.version} to ${appPackage}, so that it comes from your lockfile too`
    : `or pin ${consumer.name} at a version made for ${name} ${app.version}`;
  return (
    `align ${name}: set "${name}": "${version}" in ${appPackage} (${consumer.name} ${consumer.version} needs ${version}; ` +
    `${consumed.version} is ${consumed.bundled ? 'the one Plumbline bundles' : 'installed'}), ${pinConsumer}; then run \`npm install\` in ${appFolder} ` +
    'and commit package.json and package-lock.json'
  );
}
