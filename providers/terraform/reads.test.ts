import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { UnitDefinition } from '../../engine/provider-kit.ts';
import { processCounts, silentLogger, testUnit } from '../../testkit/providers.ts';
import { terraformReads } from './reads.ts';

/**
 * A repository laid out as public Terraform projects lay theirs out: shared
 * modules under modules/, stacks per environment under stacks/, a module
 * calling another, a stack-local module, registry and git modules.
 */
const REPO: Record<string, string> = {
  'modules/network/main.tf': [
    'module "subnets" {',
    '  source = "../subnets"',
    '  cidrs  = var.cidrs',
    '}',
    '',
    'resource "terraform_data" "bootstrap" {',
    '  input = templatefile("${path.module}/templates/bootstrap.sh.tpl", { cidr = var.cidr })',
    '}',
    '',
    'module "label" {',
    '  source  = "cloudposse/label/null"',
    '  version = "0.25.0"',
    '}',
  ].join('\n'),
  'modules/network/templates/bootstrap.sh.tpl': '#!/bin/sh\necho ${cidr}\n',
  'modules/subnets/main.tf': [
    'locals {',
    '  # a shared data file two levels up',
    '  plan = jsondecode(file("${path.module}/../../shared/cidrs.json"))',
    '}',
    'module "network_again" {',
    '  source = "../network" # a cycle must not loop',
    '}',
  ].join('\n'),
  'shared/cidrs.json': '{}\n',
  'stacks/prod/network/main.tf': [
    'module "network" {',
    '  source = "../../../modules/network"',
    '}',
    '',
    'module "local_tags" {',
    '  source = "./modules/tags"',
    '}',
    '',
    'module "from_git" {',
    '  source = "git::https://example.com/infra/modules.git//vpc?ref=v1.2.0"',
    '}',
    '',
    'module "absolute" {',
    '  source = "/opt/terraform/modules/dns"',
    '}',
    '',
    'module "escapes" {',
    '  source = "../../../../elsewhere/modules/x"',
    '}',
    '',
    'resource "terraform_data" "policy" {',
    '  input = file(var.policy_path)',
    '}',
  ].join('\n'),
  'stacks/prod/network/modules/tags/main.tf': 'output "tags" {\n  value = { team = "platform" }\n}\n',
  'stacks/prod/app/main.tf.json': `${JSON.stringify(
    {
      module: { network: { source: '../../../modules/network' } },
      resource: { terraform_data: { motd: { input: '${file("${path.module}/../../../shared/motd.txt")}' } } },
    },
    null,
    2,
  )}\n`,
};

let repoDir: string;

before(async () => {
  repoDir = await mkdtemp(join(tmpdir(), 'plumbline-reads-'));
  for (const [path, text] of Object.entries(REPO)) {
    await mkdir(dirname(join(repoDir, path)), { recursive: true });
    await writeFile(join(repoDir, path), text);
  }
});

after(async () => {
  await rm(repoDir, { recursive: true, force: true });
});

function unitAt(path: string): UnitDefinition {
  return testUnit({ name: path.replace(/^stacks\//, ''), type: 'stack', kind: 'terraform', path, spec: {} });
}

describe('terraformReads', () => {
  it('follows local modules recursively and names why, from the configuration alone', async () => {
    const processes = [...processCounts.values()].reduce((a, b) => a + b, 0);
    const reads = await terraformReads({ unit: unitAt('stacks/prod/network'), repoDir, log: silentLogger });
    assert.deepEqual(reads.entries, [
      { path: 'modules/network', why: 'module "network" in stacks/prod/network/main.tf:1' },
      { path: 'stacks/prod/network/modules/tags', why: 'module "local_tags" in stacks/prod/network/main.tf:5' },
      { path: 'modules/subnets', why: 'module "subnets" in modules/network/main.tf:1' },
      { path: 'modules/network/templates/bootstrap.sh.tpl', why: 'templatefile() in modules/network/main.tf:7' },
      { path: 'shared/cidrs.json', why: 'file() in modules/subnets/main.tf:3' },
    ]);
    assert.equal([...processCounts.values()].reduce((a, b) => a + b, 0), processes, 'no process was started');
  });

  it('notes what it cannot follow: absolute sources, sources outside the repository, computed paths', async () => {
    const reads = await terraformReads({ unit: unitAt('stacks/prod/network'), repoDir, log: silentLogger });
    const notes = reads.notes ?? [];
    assert.equal(notes.length, 3);
    assert.match(notes[0]!, /^module "absolute" in stacks\/prod\/network\/main\.tf:13: source "\/opt\/terraform\/modules\/dns" is an absolute path/);
    assert.match(notes[1]!, /^module "escapes" in stacks\/prod\/network\/main\.tf:17: source "\.\.\/\.\.\/\.\.\/\.\.\/elsewhere\/modules\/x" is outside the repository/);
    assert.match(notes[2]!, /^file\(\) in stacks\/prod\/network\/main\.tf:22: reads var\.policy_path, .* add a watch: glob/);
    assert.ok(!reads.entries.some((e) => e.path.includes('elsewhere') || e.path.startsWith('/')));
    assert.ok(!notes.some((n) => n.includes('from_git') || n.includes('label')), 'registry and git modules are skipped quietly');
  });

  it('reads the JSON syntax too', async () => {
    const reads = await terraformReads({ unit: unitAt('stacks/prod/app'), repoDir, log: silentLogger });
    assert.deepEqual(reads.entries.slice(0, 2), [
      { path: 'modules/network', why: 'module "network" in stacks/prod/app/main.tf.json:3' },
      { path: 'shared/motd.txt', why: 'file() in stacks/prod/app/main.tf.json:10' },
    ]);
    assert.deepEqual(
      reads.entries.map((e) => e.path),
      ['modules/network', 'shared/motd.txt', 'modules/subnets', 'modules/network/templates/bootstrap.sh.tpl', 'shared/cidrs.json'],
    );
  });

  it('returns nothing for a folder that does not exist', async () => {
    assert.deepEqual(await terraformReads({ unit: unitAt('stacks/missing'), repoDir, log: silentLogger }), { entries: [] });
  });
});
