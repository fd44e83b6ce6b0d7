import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../engine/exec.ts';
import type { PlanRequest, Provider } from '../../engine/provider-kit.ts';
import { providerContext, silentLogger, testConfig, testUnit } from '../../testkit/providers.ts';
import { startPostgres, type PostgresServer } from '../../testkit/postgres.ts';
import { waitFor } from '../../testkit/wait.ts';
import { LOCK_TIMEOUT, planArgs } from './commands.ts';
import { createTerraformProvider } from './index.ts';

/**
 * A preview's plan never takes the lock of state the stack keeps elsewhere
 * (here a real PostgreSQL `pg` backend): held by another terraform process,
 * the preview still plans; a plan of the watched branch keeps locking.
 */

const TERRAFORM = process.env.PLUMBLINE_TERRAFORM ?? 'terraform';

it('a plan takes the state lock (waiting for it); a preview\'s plan does not', () => {
  const normal = planArgs('/a/tfplan', '/a/vars.json');
  assert.ok(normal.includes(`-lock-timeout=${LOCK_TIMEOUT}`));
  assert.ok(!normal.some((a) => a.startsWith('-lock=')));
  assert.deepEqual(planArgs('/a/tfplan', undefined, { destroy: true, lock: true }).slice(0, 2), ['plan', '-destroy']);
  assert.ok(planArgs('/a/tfplan', undefined, { destroy: true, lock: true }).includes(`-lock-timeout=${LOCK_TIMEOUT}`));
  const preview = planArgs('/a/tfplan', '/a/vars.json', { lock: false });
  assert.ok(preview.includes('-lock=false'));
  assert.ok(!preview.some((a) => a.startsWith('-lock-timeout')));
  assert.deepEqual(preview.filter((a) => !a.startsWith('-lock')), normal.filter((a) => !a.startsWith('-lock')), 'nothing else differs');
});

describe('a preview against a stack whose state is in a pg backend', { timeout: 300_000 }, () => {
  let pg: PostgresServer;
  let root: string;
  let provider: Provider;
  let stack: string;
  let database: string;
  let cliConfigFile: string;
  let holder: ChildProcessWithoutNullStreams | undefined;
  let revision = 0;
  const unit = testUnit({ name: 'remote', type: 'stack', kind: 'terraform', path: 'stacks/remote', spec: {} });

  before(async () => {
    pg = await startPostgres();
    const url = new URL(await pg.createDatabase());
    database = url.pathname.slice(1);
    url.password = pg.password;
    url.searchParams.set('sslmode', 'disable');
    stack = [
      'terraform {',
      `  backend "pg" {\n    conn_str = "${url.toString()}"\n  }`,
      '}',
      'resource "terraform_data" "kept" {\n  input = "kept"\n}',
      '',
    ].join('\n');
    root = await mkdtemp(join(tmpdir(), 'plumbline-preview-lock-'));
    cliConfigFile = join(root, 'terraformrc');
    await writeFile(cliConfigFile, 'provider_installation {\n  filesystem_mirror {\n    path = "/opt/tf-plugins"\n  }\n}\n');
    const config = testConfig({
      source: { url: join(root, 'repo') },
      stateDir: join(root, 'state'),
      terraform: { binary: TERRAFORM, cliConfigFile, timeout: '2m' },
      defaults: { approval: 'auto' },
    });
    provider = createTerraformProvider(providerContext(config));
  });

  after(async () => {
    holder?.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
    await pg.stop();
  });

  async function request(options: { preview?: boolean } = {}): Promise<PlanRequest> {
    revision++;
    const workdir = join(root, 'runs', String(revision), 'work');
    await mkdir(workdir, { recursive: true });
    await writeFile(join(workdir, 'main.tf'), stack);
    return {
      unit,
      revision: `rev${revision}`,
      workdir,
      repoDir: workdir,
      artifactsDir: join(root, 'runs', String(revision), 'artifacts'),
      // As a preview gets it: a folder of its own, never the unit's.
      unitStateDir: join(root, 'state', options.preview ? 'preview' : 'units', unit.name),
      vars: {},
      sensitiveVars: [],
      resolvedSpec: unit.spec,
      signal: AbortSignal.timeout(120_000),
      log: silentLogger,
      ...(options.preview ? { preview: true } : {}),
    };
  }

  const advisoryLocks = async () => Number((await pg.psql("select count(*) from pg_locks where locktype = 'advisory' and granted", database)).trim());
  const tf = (cwd: string, args: string[]) =>
    run(TERRAFORM, args, { cwd, timeoutMs: 60_000, env: { TF_CLI_CONFIG_FILE: cliConfigFile, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' }, okExitCodes: [0, 1] });

  it('the preview plans while another terraform process holds the state lock', async () => {
    // Real state in the database: the resource applied by a run of the watched branch.
    const first = await request();
    assert.equal((await provider.plan(first)).hasChanges, true);
    await provider.apply(first);

    // Another terraform process of the same backend takes the lock and keeps it (a console stays open on its stdin).
    const holderDir = join(root, 'holder');
    await mkdir(holderDir, { recursive: true });
    await writeFile(join(holderDir, 'main.tf'), stack);
    const init = await tf(holderDir, ['init', '-input=false', '-no-color']);
    assert.equal(init.exitCode, 0, init.stderr);
    const locksBefore = await advisoryLocks();
    holder = spawn(TERRAFORM, ['console'], { cwd: holderDir, env: { ...process.env, TF_CLI_CONFIG_FILE: cliConfigFile, CHECKPOINT_DISABLE: '1' } });
    await waitFor(async () => (await advisoryLocks()) > locksBefore, { what: 'the console holding the state lock', timeoutMs: 60_000 });
    // The lock is real: a locking plan of the same state is refused.
    const locked = await tf(holderDir, ['plan', '-input=false', '-no-color', '-lock-timeout=1s']);
    assert.equal(locked.exitCode, 1);
    assert.match(locked.stderr, /Error acquiring the state lock/);

    const preview = await provider.plan(await request({ preview: true }));
    // It read the real state: the applied resource is no change.
    assert.equal(preview.hasChanges, false);
    assert.deepEqual(preview.summary, { add: 0, change: 0, destroy: 0, replace: 0 });
    assert.ok((await advisoryLocks()) > locksBefore, 'the lock was held all along');

    holder.stdin.end();
    await new Promise((resolve) => holder!.once('exit', resolve));
    holder = undefined;
  });
});
