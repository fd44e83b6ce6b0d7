import { copyFile, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../../engine/provider-kit.ts';

/**
 * A unit's persistent Terraform data directory (TF_DATA_DIR: what terraform
 * keeps in `.terraform`: installed providers, modules, the backend it was
 * initialized with), kept in the unit's private state folder across runs, so
 * `terraform init` runs only when what it depends on changed (init-inputs.ts).
 *
 * The fingerprint of the init that filled it is written last, atomically,
 * and removed before any new init: an init interrupted halfway leaves no
 * fingerprint, so the next run inits again. A member of a cluster that never
 * ran the unit has no data dir and inits.
 */

export const DATA_DIR = 'terraform-data';
/** Inside the data dir: the fingerprint of the init inputs its content was made from. */
const FINGERPRINT_FILE = 'plumbline-init-fingerprint';
/** Inside the data dir: the dependency lock file init wrote, for a repository that carries none. */
const LOCK_COPY = 'plumbline-dependency-lock.hcl';
export const LOCK_FILE = '.terraform.lock.hcl';
/**
 * What terraform records in the data dir as JSON: the backend it was
 * initialized with, the modules it installed. One that does not parse (a disk
 * that filled up, a copy cut short) fails every command, `init -reconfigure`
 * included, until it is removed.
 */
const JSON_RECORDS = ['terraform.tfstate', join('modules', 'modules.json')];

export class TerraformDataDir {
  readonly path: string;

  constructor(unitStateDir: string) {
    this.path = join(unitStateDir, DATA_DIR);
  }

  /**
   * Whether an init with these inputs filled the data dir and it is still
   * whole: its fingerprint matches and every installed provider resolves
   * (they link into the plugin cache, which may have been removed). A stack
   * with no provider to install (only `terraform_data`) has no lock file.
   */
  async isCurrent(fingerprint: string): Promise<boolean> {
    const recorded = await readFile(join(this.path, FINGERPRINT_FILE), 'utf8').catch(() => undefined);
    if (recorded?.trim() !== fingerprint) return false;
    if ((await this.damagedRecords()).length > 0) return false;
    return providersResolve(join(this.path, 'providers'));
  }

  /** Before an init: whatever it leaves behind is untrusted until `record`. */
  async invalidate(): Promise<void> {
    await rm(join(this.path, FINGERPRINT_FILE), { force: true });
    await rm(join(this.path, LOCK_COPY), { force: true });
    for (const record of await this.damagedRecords()) await rm(record, { force: true });
  }

  /** Terraform's JSON records here that exist and do not parse. */
  private async damagedRecords(): Promise<string[]> {
    const damaged: string[] = [];
    for (const name of JSON_RECORDS) {
      const file = join(this.path, name);
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined && !parses(text)) damaged.push(file);
    }
    return damaged;
  }

  /** After a successful init in `configDir`: keep its lock file (when the repository carries none), then the fingerprint. */
  async record(fingerprint: string, configDir: string, repoCarriesLock: boolean): Promise<void> {
    if (!repoCarriesLock && (await pathExists(join(configDir, LOCK_FILE)))) await copyFile(join(configDir, LOCK_FILE), join(this.path, LOCK_COPY));
    const file = join(this.path, FINGERPRINT_FILE);
    await writeFile(`${file}.tmp`, `${fingerprint}\n`, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  /** Into a fresh workspace that carries no lock file: the one the recorded init wrote, so plan uses the same provider versions. */
  async restoreLockFile(configDir: string): Promise<void> {
    if (await pathExists(join(this.path, LOCK_COPY))) await copyFile(join(this.path, LOCK_COPY), join(configDir, LOCK_FILE));
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** `providers/<host>/<namespace>/<type>/<version>/<platform>`: each one there (a link into the plugin cache that still points somewhere). */
async function providersResolve(root: string): Promise<boolean> {
  const platforms = await entriesAtDepth(root, 5);
  for (const platform of platforms) {
    try {
      await stat(platform);
    } catch {
      return false;
    }
  }
  return true;
}

async function entriesAtDepth(dir: string, depth: number): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const paths = names.map((name) => join(dir, name));
  if (depth === 1) return paths;
  return (await Promise.all(paths.map((path) => entriesAtDepth(path, depth - 1)))).flat();
}
