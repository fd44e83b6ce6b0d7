import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { createWorkspace, rememberUnitFolders } from './workspace.ts';

const root = mkdtempSync(join(tmpdir(), 'plumbline-ws-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, content: string) {
  mkdirSync(dirname(join(root, 'snap', path)), { recursive: true });
  writeFileSync(join(root, 'snap', path), content);
}

test('only the unit folder is copied; the rest links to the snapshot so relative paths resolve', async () => {
  write('stacks/web/main.tf', 'module "vpc" { source = "../../modules/vpc" }');
  write('stacks/web/.terraform/junk', 'x');
  write('stacks/web/old.tfstate', '{}');
  write('stacks/db/main.tf', 'db');
  write('stacks/db/stack.yaml', 'kind: terraform');
  write('stacks/shared/outputs.tf', 'shared module');
  write('modules/vpc/main.tf', 'vpc');
  const workdir = await createWorkspace({ snapshotDir: join(root, 'snap'), unitPath: 'stacks/web', treeDir: join(root, 'tree'), exclude: ['.terraform'] });
  assert.equal(workdir, join(root, 'tree', 'stacks', 'web'));
  assert.equal(lstatSync(workdir).isSymbolicLink(), false);
  assert.equal(readFileSync(join(workdir, '../../modules/vpc/main.tf'), 'utf8'), 'vpc');
  assert.equal(lstatSync(join(root, 'tree', 'modules')).isSymbolicLink(), true);
  assert.equal(lstatSync(join(root, 'tree', 'stacks', 'shared')).isSymbolicLink(), true, 'a non-unit sibling is linked');
  assert.throws(() => lstatSync(join(root, 'tree', 'stacks', 'db')), 'another unit is left out');
  assert.throws(() => lstatSync(join(workdir, '.terraform')));
  assert.throws(() => lstatSync(join(workdir, 'old.tfstate')));
  // Writing in the workspace never reaches the snapshot.
  writeFileSync(join(workdir, 'main.tf'), 'changed');
  assert.match(readFileSync(join(root, 'snap', 'stacks/web/main.tf'), 'utf8'), /module/);
});

test('an immutable snapshot is read for its units once, with the same result', async () => {
  write('stacks/web/main.tf', 'module "vpc" { source = "../../modules/vpc" }');
  write('stacks/db/stack.yaml', 'kind: terraform');
  write('stacks/shared/outputs.tf', 'shared module');
  write('inventories/fleet/inventory.yaml', 'playbook: site.yml');
  const snapshotDir = join(root, 'snap');
  const first = await createWorkspace({ snapshotDir, unitPath: 'stacks/web', treeDir: join(root, 'tree-a'), immutableSnapshot: true });
  assert.equal(lstatSync(join(root, 'tree-a', 'stacks', 'shared')).isSymbolicLink(), true, 'a non-unit sibling is linked');
  assert.throws(() => lstatSync(join(root, 'tree-a', 'stacks', 'db')), 'another unit is left out');
  assert.equal(lstatSync(join(root, 'tree-a', 'inventories')).isSymbolicLink(), true, 'a folder of units above the unit is linked whole');
  assert.equal(readFileSync(join(first, '../../modules/vpc/main.tf'), 'utf8'), 'vpc');
  // The snapshot is immutable by contract: a unit added later is not seen again.
  write('stacks/late/stack.yaml', 'kind: terraform');
  await createWorkspace({ snapshotDir, unitPath: 'stacks/web', treeDir: join(root, 'tree-b'), immutableSnapshot: true });
  assert.equal(lstatSync(join(root, 'tree-b', 'stacks', 'late')).isSymbolicLink(), true, 'the units were read once, on the first run');
});

test('unit folders the definitions found are taken as they are, with no search of the snapshot', async () => {
  const snapshotDir = join(root, 'snap-remembered');
  for (const [path, content] of Object.entries({ 'stacks/web/main.tf': 'web', 'stacks/db/stack.yaml': 'kind: terraform', 'stacks/cache/stack.yaml': 'kind: terraform' })) {
    mkdirSync(dirname(join(snapshotDir, path)), { recursive: true });
    writeFileSync(join(snapshotDir, path), content);
  }
  // Only db was named: cache, although it holds a manifest, is linked like any folder.
  rememberUnitFolders(snapshotDir, ['stacks/db', 'stacks/web']);
  await createWorkspace({ snapshotDir, unitPath: 'stacks/web', treeDir: join(root, 'tree-remembered'), immutableSnapshot: true });
  assert.throws(() => lstatSync(join(root, 'tree-remembered', 'stacks', 'db')), 'a remembered unit is left out');
  assert.equal(lstatSync(join(root, 'tree-remembered', 'stacks', 'cache')).isSymbolicLink(), true, 'the snapshot was not searched');
});
