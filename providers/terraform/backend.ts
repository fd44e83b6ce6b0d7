import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { findStateBlocks, type StateBlock } from './hcl-scan.ts';
import { configFileNames, field, objects, parseJsonConfig } from './config-files.ts';

/**
 * Where a unit's Terraform state lives. A stack that declares its own backend
 * (s3, a cloud block, a local backend with an absolute path) keeps it. A stack
 * without one, or with a local backend at a relative path (what CDKTF always
 * synthesizes), would keep its state inside the throw-away workdir, so Plumbline
 * redirects it into the unit's private state folder with an override file.
 */

/** Written into the config folder; Terraform merges `*_override.tf.json` last. */
export const BACKEND_OVERRIDE_FILE = 'plumbline_backend_override.tf.json';

export type DeclaredBackend =
  | { kind: 'none' }
  | { kind: 'backend'; type: string; path?: string; file: string }
  | { kind: 'cloud'; file: string };

export type StatePlacement =
  | { managedBy: 'plumbline'; statePath: string; replaced: DeclaredBackend }
  | { managedBy: 'stack'; backend: DeclaredBackend };

/** The backend the configuration in `configDir` declares (the last one read wins, as overrides do). */
export async function detectBackend(configDir: string): Promise<DeclaredBackend> {
  const files = (await configFileNames(configDir)).filter((f) => f !== BACKEND_OVERRIDE_FILE).sort(byTerraformLoadOrder);
  let declared: DeclaredBackend = { kind: 'none' };
  for (const file of files) {
    const text = await readFile(join(configDir, file), 'utf8');
    const blocks = file.endsWith('.tf.json') ? jsonStateBlocks(text) : findStateBlocks(text);
    for (const block of blocks) {
      declared =
        block.kind === 'cloud'
          ? { kind: 'cloud', file }
          : { kind: 'backend', type: block.type, ...(block.strings.path !== undefined ? { path: block.strings.path } : {}), file };
    }
  }
  return declared;
}

/**
 * Redirect the state into `unitStateDir` unless the stack manages it; with a
 * shared PostgreSQL store (several daemons), into a schema of its own in that
 * database (Terraform's `pg` backend, with its own locking), so any member can
 * run the unit. Idempotent.
 */
export async function placeState(configDir: string, unitStateDir: string, shared?: { connStr: string; schema: string }): Promise<StatePlacement> {
  const declared = await detectBackend(configDir);
  const overridePath = join(configDir, BACKEND_OVERRIDE_FILE);
  if (!isRedirectable(declared)) {
    await rm(overridePath, { force: true });
    return { managedBy: 'stack', backend: declared };
  }
  await mkdir(unitStateDir, { recursive: true, mode: 0o700 });
  const statePath = shared ? `postgres schema ${shared.schema}` : join(unitStateDir, 'terraform.tfstate');
  const override = shared
    ? { terraform: { backend: { pg: { conn_str: shared.connStr, schema_name: shared.schema } } } }
    : { terraform: { backend: { local: { path: statePath } } } };
  await writeFile(overridePath, `${JSON.stringify(override, null, 2)}\n`, { mode: 0o600 });
  return { managedBy: 'plumbline', statePath, replaced: declared };
}

function isRedirectable(declared: DeclaredBackend): boolean {
  if (declared.kind === 'none') return true;
  if (declared.kind === 'backend' && declared.type === 'local') return declared.path === undefined || !isAbsolute(declared.path);
  return false;
}

/** Plain files first, then override files, as Terraform merges them. */
function byTerraformLoadOrder(a: string, b: string): number {
  const rank = (f: string): number => (/(^|_)override\.tf(\.json)?$/.test(f) ? 1 : 0);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * `terraform.backend` / `terraform.cloud` in JSON syntax. Each level may be an
 * object or an array of objects (`"terraform": [{ "backend": [{ "s3": [{}] }] }]`).
 */
export function jsonStateBlocks(text: string): StateBlock[] {
  const doc = parseJsonConfig(text);
  const blocks: StateBlock[] = [];
  for (const terraform of objects(field(doc, 'terraform'))) {
    for (const backends of objects(field(terraform, 'backend'))) {
      for (const [type, body] of Object.entries(backends)) {
        if (type === '//') continue;
        const configs = objects(body);
        for (const config of configs.length > 0 ? configs : [{}]) {
          const strings: Record<string, string> = {};
          for (const [k, v] of Object.entries(config)) if (typeof v === 'string' && k !== '//') strings[k] = v;
          blocks.push({ kind: 'backend', type, strings });
        }
      }
    }
    for (const _cloud of objects(field(terraform, 'cloud'))) blocks.push({ kind: 'cloud', type: '', strings: {} });
  }
  return blocks;
}

/** A unit's own schema in the shared database: PostgreSQL's identifier rules, and never two units in one. */
export function stateSchemaOf(unit: string): string {
  const readable = unit.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 40);
  return `plumbline_${readable}_${createHash('sha256').update(unit).digest('hex').slice(0, 8)}`;
}
