import { stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { BACKEND_OVERRIDE_FILE } from './backend.ts';
import { configFileNames, field, objects, parseJsonConfig } from './config-files.ts';
import { fingerprint } from './fingerprint.ts';
import { findInitBlocks, type InitBlocks } from './hcl-scan.ts';
import { readText } from './module-tree.ts';
import { cliConfigFile } from './sandbox.ts';
import type { TerraformSettings } from './settings.ts';

/**
 * The fingerprint of everything `terraform init` depends on in a config
 * folder: what it reads of the configuration (init-relevant blocks of the
 * folder and of every local module it calls), the state placement Plumbline
 * wrote there, the dependency lock file the repository carries, the terraform
 * binary, the CLI configuration (provider installation) and the plugin cache.
 * Equal fingerprints: an earlier init of the same data dir still holds.
 *
 * Local modules are read through their relative path: terraform records them
 * as such (modules.json), so a later run in another workspace reads their
 * current code without a new init; only a changed call needs one.
 */
export async function initInputsFingerprint(configDir: string, settings: TerraformSettings, pluginCacheDir: string): Promise<string> {
  const config = cliConfigFile(settings);
  return fingerprint({
    format: 1,
    binary: await binaryIdentity(settings.binary),
    cliConfig: config ? { path: config, text: (await readText(config)) ?? null } : null,
    pluginCacheDir,
    lockFile: (await readText(join(configDir, '.terraform.lock.hcl'))) ?? null,
    backendOverride: (await readText(join(configDir, BACKEND_OVERRIDE_FILE))) ?? null,
    modules: await moduleTreeBlocks(configDir),
  });
}

/** The config folder and each local module it calls (each once): their init-relevant blocks, by relative folder. */
async function moduleTreeBlocks(configDir: string): Promise<Record<string, Record<string, InitBlocks>>> {
  const tree: Record<string, Record<string, InitBlocks>> = {};
  const queue = ['.'];
  const seen = new Set(queue);
  for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) {
    const files: Record<string, InitBlocks> = {};
    for (const name of await configFileNames(resolve(configDir, dir))) {
      if (name === BACKEND_OVERRIDE_FILE) continue;
      const text = await readText(resolve(configDir, dir, name));
      if (text === undefined) continue;
      const blocks = name.endsWith('.tf.json') ? jsonInitBlocks(text) : findInitBlocks(text);
      files[name] = blocks;
      for (const call of blocks.modules) {
        if (!/^\.\.?(\/|$)/.test(call.source)) continue;
        const folder = join(dir, call.source);
        if (!seen.has(folder)) {
          seen.add(folder);
          queue.push(folder);
        }
      }
    }
    tree[dir] = files;
  }
  return tree;
}

/** The same blocks in a `.tf.json` file (what CDKTF synthesizes). */
function jsonInitBlocks(text: string): InitBlocks {
  const doc = parseJsonConfig(text);
  if (doc === undefined) return { terraform: [text], modules: [], providers: [], impliedProviders: [] };
  const modules: InitBlocks['modules'] = [];
  for (const block of objects(field(doc, 'module'))) {
    for (const [name, body] of Object.entries(block)) {
      for (const call of objects(body)) {
        const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value));
        modules.push({ name, source: text(call.source), version: text(call.version) });
      }
    }
  }
  const keys = (name: string) => objects(field(doc, name)).flatMap((block) => Object.keys(block));
  const implied = ['resource', 'data', 'ephemeral'].flatMap((name) => keys(name)).map((type) => type.split('_')[0]!);
  return {
    terraform: objects(field(doc, 'terraform')).map((block) => JSON.stringify(block)),
    modules,
    providers: [...new Set(keys('provider'))].sort(),
    impliedProviders: [...new Set(implied)].sort(),
  };
}

/** Path, size and modification time of the terraform binary (a new version is a new file), without running it. */
async function binaryIdentity(binary: string): Promise<{ path: string; size: number; mtimeMs: number } | { name: string }> {
  const candidates = isAbsolute(binary) ? [binary] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, binary));
  for (const path of candidates) {
    try {
      const info = await stat(path);
      if (info.isFile()) return { path, size: info.size, mtimeMs: info.mtimeMs };
    } catch {
      // not in this folder of PATH
    }
  }
  return { name: binary };
}
