import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { helloStack } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

// A careless or hostile committer against one daemon: links out of the
// repository, and what the daemon leaves readable on the control host.
let repo: TestRepo;
let daemon: TestDaemon;
let first: string;
const OUTSIDE_SECRET = 'control-host-secret-5b1d0c7e';

before(async () => {
  repo = new TestRepo();
  first = repo.commit({ ...helloStack() }, 'hello');
  daemon = await TestDaemon.start({ sourceUrl: repo.url });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

/** Every path below `dir` whose mode lets group or others in (symlinks aside). */
function readableByOthers(dir: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) return;
    if ((info.mode & 0o077) !== 0) found.push(`${path} ${(info.mode & 0o777).toString(8)}`);
    if (info.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
  };
  visit(dir);
  return found;
}

test('everything the daemon and terraform write under stateDir is private, and an older readable file is fixed at start', async () => {
  await daemon.waitForUnit('hello', 'InSync', { revision: first });
  assert.deepEqual(readableByOthers(daemon.stateDir), []);

  // A state directory from an older version: Terraform wrote its state 0644.
  await daemon.stop();
  const state = join(daemon.stateDir, 'units', 'hello', 'terraform.tfstate');
  chmodSync(state, 0o644);
  mkdirSync(join(daemon.stateDir, 'known_hosts'), { mode: 0o755 });
  writeFileSync(join(daemon.stateDir, 'known_hosts', 'web'), '', { mode: 0o644 });
  chmodSync(join(daemon.stateDir, 'known_hosts'), 0o755);
  await daemon.launch();
  assert.deepEqual(readableByOthers(daemon.stateDir), []);
});

test('a .tf symlinked out of the repository is never run: the unit is Stalled, naming the link', async () => {
  const outside = join(repo.root, 'outside.tf');
  writeFileSync(outside, `resource "terraform_data" "leak" {\n  input = "${OUTSIDE_SECRET}"\n}\n`);
  symlinkSync(outside, join(repo.work, 'stacks/hello/leak.tf'));
  const head = repo.commit({}, 'a link out of the repository');
  await daemon.sync();
  const unit = await daemon.waitForUnit('hello', 'Stalled', { revision: head });
  assert.equal(unit.reason, 'InputOutsideRepository');
  assert.match(unit.message, /stacks\/hello\/leak\.tf is a symlink to .*outside\.tf/);
  // Nothing of the linked file was planned: no plan at that commit, no trace of its content.
  assert.equal((await daemon.plans('hello')).filter((p) => p.revision === head).length, 0);
  assert.ok(!daemon.logs.includes(OUTSIDE_SECRET));
  assert.equal(spawnSync('grep', ['-rl', OUTSIDE_SECRET, daemon.stateDir, '--exclude-dir=snapshots'], { encoding: 'utf8' }).stdout, '');
});

test('a link that stays inside the repository is fine, and removing the bad link plans the unit again', async () => {
  rmSync(join(repo.work, 'stacks/hello/leak.tf'));
  mkdirSync(join(repo.work, 'shared'), { recursive: true });
  writeFileSync(join(repo.work, 'shared/tags.tf'), 'locals {\n  team = "platform"\n}\n');
  symlinkSync('../../shared/tags.tf', join(repo.work, 'stacks/hello/tags.tf'));
  const head = repo.commit({}, 'a link inside the repository');
  await daemon.sync();
  await daemon.waitForUnit('hello', 'InSync', { revision: head });
});

test('a state directory of the previous version with a truncated record is upgraded: the record is set aside, named, and its unit planned again', async () => {
  const unit = await daemon.waitForUnit('hello', 'InSync');
  const { source, units } = await daemon.status();
  const plans = await daemon.plans();
  const history = await daemon.history();
  await daemon.stop();
  // The layout the JSON-file store of the previous version kept: a file per record, an append-only history.
  const store = join(daemon.stateDir, 'store');
  for (const file of ['plumbline.db', 'plumbline.db-wal', 'plumbline.db-shm']) rmSync(join(daemon.stateDir, file), { force: true });
  for (const folder of ['units', 'plans', 'changesets', 'reads']) mkdirSync(join(store, folder), { recursive: true });
  for (const u of units) writeFileSync(join(store, 'units', `${u.name}.json`), JSON.stringify(u));
  for (const p of plans) writeFileSync(join(store, 'plans', `${p.id}.json`), JSON.stringify({ ...p, runId: `old-${p.id}` }));
  writeFileSync(join(store, 'source.json'), JSON.stringify(source));
  writeFileSync(join(store, 'history.jsonl'), [...history].reverse().map((e) => `${JSON.stringify(e)}\n`).join(''));
  const text = JSON.stringify(units.find((u) => u.name === 'hello'));
  writeFileSync(join(store, 'units', 'hello.json'), text.slice(0, Math.floor(text.length / 2)));

  const restartedAt = Date.now();
  await daemon.launch();
  const damaged = (await daemon.status()).damaged ?? [];
  assert.deepEqual(damaged.map((d) => d.file), ['store/units/hello.json']);
  assert.ok(existsSync(join(daemon.stateDir, damaged[0]!.movedTo)), damaged[0]!.movedTo);
  assert.match(daemon.cli(['status']).stdout, /damaged store record store\/units\/hello\.json/);
  await waitFor(() => daemon.logs.includes('did not parse and was not imported'), { what: 'the damaged record logged' });
  // Everything else came over (the plans with their ids); the lost record comes back from a new plan of the unit, made after the restart.
  for (const p of plans) assert.ok((await daemon.plans()).some((q) => q.id === p.id), p.id);
  const replanned = await daemon.waitForUnit('hello', 'InSync');
  assert.equal(replanned.lastAppliedRevision, unit.lastAppliedRevision);
  const planned = (await daemon.history('hello')).filter((e) => e.type === 'planned' && Date.parse(e.at) >= restartedAt);
  assert.equal(planned.length, 1);
  assert.equal(daemon.cli(['status']).code, 0);
});
