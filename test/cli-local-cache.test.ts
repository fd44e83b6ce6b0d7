import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cacheFolderOf } from '../engine/local-plan-cache.ts';
import { repoRoot } from '../testkit/files.ts';
import { helloStack, writeTerraformRc } from '../testkit/terraform.ts';

/**
 * `plumbline plan DIR` keeps each directory's Terraform data dirs in the
 * user's cache, against the real terraform: a second plan of an unchanged
 * stack runs no init (the commands its debug log lists), a changed provider
 * or backend inits again, a damaged cache is recovered, a plan of a directory
 * another plan holds runs beside it, and every plan is against no state.
 */

const root = mkdtempSync(join(tmpdir(), 'plumbline-plan-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));
const cacheHome = join(root, 'cache');
const env = { TF_CLI_CONFIG_FILE: writeTerraformRc(root), XDG_CACHE_HOME: cacheHome, PLUMBLINE_LOG_LEVEL: 'debug' };

let trees = 0;
function tree(files: Record<string, string>): string {
  trees += 1;
  const dir = join(root, `repo-${trees}`);
  write(dir, files);
  return dir;
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

interface Planned {
  code: number | null;
  /** The terraform subcommands the plan ran, in order. */
  terraform: string[];
  add?: number;
  output: string;
}

function plan(dir: string): Promise<Planned> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), 'plan', dir, '--stack', 'hello', '--json'], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const terraform: string[] = [];
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; command?: string; args?: string[] };
        if (entry.msg === 'executing command' && entry.command === 'terraform') terraform.push(entry.args![0]!);
      }
      const result = (JSON.parse(stdout || '{"results":[]}') as { results: Array<{ summary?: { add: number } }> }).results[0];
      resolve({ code, terraform, ...(result?.summary ? { add: result.summary.add } : {}), output: stdout + stderr });
    });
  });
}

const dataDirOf = (dir: string) => join(cacheFolderOf(dir, { XDG_CACHE_HOME: cacheHome }), 'units', 'hello', 'terraform-data');
const requiring = (version: string) => `terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "${version}"\n    }\n  }\n}\n`;

describe('plumbline plan keeps a directory\u2019s Terraform data dirs', { timeout: 600_000 }, () => {
  it('inits a stack once: the second plan of it unchanged runs plan and show only', async () => {
    const dir = tree(helloStack());
    const first = await plan(dir);
    assert.equal(first.code, 2, first.output);
    assert.deepEqual(first.terraform, ['init', 'plan', 'show']);
    const second = await plan(dir);
    assert.equal(second.code, 2, second.output);
    assert.deepEqual(second.terraform, ['plan', 'show']);
    assert.equal(second.add, 1);
    const folder = cacheFolderOf(dir, { XDG_CACHE_HOME: cacheHome });
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    assert.equal(statSync(join(cacheHome, 'plumbline')).mode & 0o777, 0o700);
  });

  it('inits again when a provider version or the backend changes', async () => {
    const dir = tree(helloStack({ extra: requiring('>= 5.0') }));
    assert.deepEqual((await plan(dir)).terraform, ['init', 'plan', 'show']);
    assert.deepEqual((await plan(dir)).terraform, ['plan', 'show']);
    write(dir, helloStack({ extra: requiring('5.100.0') }));
    const pinned = await plan(dir);
    assert.equal(pinned.code, 2, pinned.output);
    assert.deepEqual(pinned.terraform, ['init', 'plan', 'show']);

    write(dir, helloStack({ extra: `terraform {\n  backend "local" {\n    path = "${join(root, 'own.tfstate')}"\n  }\n}\n` }));
    const backend = await plan(dir);
    assert.equal(backend.code, 2, backend.output);
    assert.deepEqual(backend.terraform, ['init', 'plan', 'show']);
  });

  it('recovers a damaged cache: an init that did not finish, a record terraform cannot read', async () => {
    const dir = tree(helloStack());
    assert.equal((await plan(dir)).code, 2);
    rmSync(join(dataDirOf(dir), 'plumbline-init-fingerprint'));
    const unfinished = await plan(dir);
    assert.equal(unfinished.code, 2, unfinished.output);
    assert.deepEqual(unfinished.terraform, ['init', 'plan', 'show']);

    writeFileSync(join(dataDirOf(dir), 'terraform.tfstate'), '{"version": 3, "backend": {');
    const damaged = await plan(dir);
    assert.equal(damaged.code, 2, damaged.output);
    assert.deepEqual(damaged.terraform, ['init', 'plan', 'show']);
    assert.deepEqual((await plan(dir)).terraform, ['plan', 'show']);
  });

  it('plans against no state, whatever the kept folder holds', async () => {
    const dir = tree(helloStack());
    assert.equal((await plan(dir)).code, 2);
    const unitState = dirname(dataDirOf(dir));
    // A state in which the greeting exists: a plan against it would have nothing to add.
    writeFileSync(
      join(unitState, 'terraform.tfstate'),
      JSON.stringify({
        version: 4,
        terraform_version: '1.11.4',
        serial: 1,
        lineage: '00000000-0000-0000-0000-000000000000',
        outputs: {},
        resources: [
          { mode: 'managed', type: 'terraform_data', name: 'greeting', provider: 'provider["terraform.io/builtin/terraform"]', instances: [{ schema_version: 0, attributes: { id: 'x', input: { value: 'hello', type: 'string' }, output: { value: 'hello', type: 'string' }, triggers_replace: null } }] },
        ],
      }),
    );
    const planned = await plan(dir);
    assert.equal(planned.code, 2, planned.output);
    assert.equal(planned.add, 1);
    assert.deepEqual(readdirSync(unitState), ['terraform-data']);
  });

  it('two plans of one directory at once both succeed; one held off plans in a scratch folder', async () => {
    const dir = tree(helloStack());
    const both = await Promise.all([plan(dir), plan(dir)]);
    for (const one of both) {
      assert.equal(one.code, 2, one.output);
      assert.equal(one.add, 1);
    }
    // The folder held (by this live process): the plan inits in its scratch folder, the kept data dir is left alone.
    const fingerprint = join(dataDirOf(dir), 'plumbline-init-fingerprint');
    const before = statSync(fingerprint).mtimeMs;
    const lock = join(cacheFolderOf(dir, { XDG_CACHE_HOME: cacheHome }), 'daemon.lock');
    writeFileSync(lock, `${process.pid}\n`);
    try {
      const held = await plan(dir);
      assert.equal(held.code, 2, held.output);
      assert.deepEqual(held.terraform, ['init', 'plan', 'show']);
    } finally {
      rmSync(lock);
    }
    assert.equal(statSync(fingerprint).mtimeMs, before);
    assert.deepEqual((await plan(dir)).terraform, ['plan', 'show']);
  });
});
