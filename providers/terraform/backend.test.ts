import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BACKEND_OVERRIDE_FILE, detectBackend, jsonStateBlocks, placeState } from './backend.ts';
import { findStateBlocks } from './hcl-scan.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plumbline-backend-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe('findStateBlocks (HCL)', () => {
  it('finds a backend with its string arguments', () => {
    const blocks = findStateBlocks('terraform {\n  required_version = ">= 1.5"\n  backend "s3" {\n    bucket = "b"\n    key    = "k"\n  }\n}\n');
    assert.deepEqual(blocks, [{ kind: 'backend', type: 's3', strings: { bucket: 'b', key: 'k' } }]);
  });

  it('finds a cloud block', () => {
    assert.deepEqual(findStateBlocks('terraform {\n  cloud {\n    organization = "o"\n  }\n}'), [{ kind: 'cloud', type: '', strings: { organization: 'o' } }]);
  });

  it('ignores commented-out backends in every comment style', () => {
    const text = [
      'terraform {',
      '  # backend "s3" {}',
      '  // backend "gcs" {}',
      '  /* backend "azurerm" {',
      '  } */',
      '  required_providers {}',
      '}',
    ].join('\n');
    assert.deepEqual(findStateBlocks(text), []);
  });

  it('ignores the words inside strings, heredocs and other blocks', () => {
    const text = [
      'resource "terraform_data" "x" {',
      '  input = "terraform { backend \\"s3\\" {} }"',
      '  triggers_replace = <<-EOT',
      '    terraform {',
      '      backend "s3" {}',
      '    }',
      '  EOT',
      '}',
      'locals {',
      '  backend = "${var.x}-{"',
      '}',
      'terraform {',
      '  backend "local" {',
      '    path = "state/terraform.tfstate" # a comment',
      '  }',
      '}',
    ].join('\n');
    assert.deepEqual(findStateBlocks(text), [{ kind: 'backend', type: 'local', strings: { path: 'state/terraform.tfstate' } }]);
  });

  it('does not take a template for a literal path', () => {
    assert.deepEqual(findStateBlocks('terraform {\n backend "local" {\n path = "${path.module}/x"\n }\n}'), [
      { kind: 'backend', type: 'local', strings: {} },
    ]);
  });
});

describe('jsonStateBlocks', () => {
  it('reads object and array forms', () => {
    assert.deepEqual(jsonStateBlocks('{"terraform":{"backend":{"local":{"path":"terraform.app.tfstate"}}}}'), [
      { kind: 'backend', type: 'local', strings: { path: 'terraform.app.tfstate' } },
    ]);
    assert.deepEqual(jsonStateBlocks('{"terraform":[{"backend":[{"s3":[{"bucket":"b"}]}]}]}'), [{ kind: 'backend', type: 's3', strings: { bucket: 'b' } }]);
    assert.deepEqual(jsonStateBlocks('{"terraform":[{"cloud":[{"organization":"o"}]}]}'), [{ kind: 'cloud', type: '', strings: {} }]);
    assert.deepEqual(jsonStateBlocks('{"//":"comment","resource":{}}'), []);
    assert.deepEqual(jsonStateBlocks('not json'), []);
  });
});

describe('detectBackend / placeState', () => {
  it('redirects a stack without backend into the unit state folder', async () => {
    const dir = await folder({ 'main.tf': 'resource "terraform_data" "x" {}\n' });
    const stateDir = join(dir, 'unit-state');
    const placement = await placeState(dir, stateDir);
    assert.deepEqual(placement, { managedBy: 'plumbline', statePath: join(stateDir, 'terraform.tfstate'), replaced: { kind: 'none' } });
    const override = JSON.parse(await readFile(join(dir, BACKEND_OVERRIDE_FILE), 'utf8')) as unknown;
    assert.deepEqual(override, { terraform: { backend: { local: { path: join(stateDir, 'terraform.tfstate') } } } });
    assert.equal((await stat(stateDir)).mode & 0o777, 0o700);
  });

  it('redirects a relative local backend (what CDKTF synthesizes)', async () => {
    const dir = await folder({ 'cdk.tf.json': '{"terraform":{"backend":{"local":{"path":"terraform.app.tfstate"}}}}' });
    const placement = await placeState(dir, join(dir, 's'));
    assert.equal(placement.managedBy, 'plumbline');
  });

  it('leaves a declared remote, cloud or absolute local backend alone and removes a stale override', async () => {
    for (const text of [
      'terraform {\n  backend "s3" {}\n}\n',
      'terraform {\n  cloud {}\n}\n',
      'terraform {\n  backend "local" {\n    path = "/var/lib/state/x.tfstate"\n  }\n}\n',
    ]) {
      const dir = await folder({ 'main.tf': text, [BACKEND_OVERRIDE_FILE]: '{}' });
      const placement = await placeState(dir, join(dir, 's'));
      assert.equal(placement.managedBy, 'stack', text);
      await assert.rejects(stat(join(dir, BACKEND_OVERRIDE_FILE)));
    }
  });

  it('lets override files win, as terraform merges them', async () => {
    const dir = await folder({
      'main.tf': 'terraform {\n  backend "local" {}\n}\n',
      'backend_override.tf': 'terraform {\n  backend "s3" {}\n}\n',
    });
    assert.deepEqual(await detectBackend(dir), { kind: 'backend', type: 's3', file: 'backend_override.tf' });
  });
});
