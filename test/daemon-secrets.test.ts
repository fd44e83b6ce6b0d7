import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { storedFiles } from '../testkit/files.ts';
import { TestRepo } from '../testkit/git-repo.ts';

// Seeded secrets: one from a sensitive variable fed from the daemon's environment,
// one only Terraform knows (a sensitive output derived from it).
const SECRET = 'hunter2-very-secret-9f3a71';
const DERIVED = `derived-${SECRET}`;

let repo: TestRepo;
let daemon: TestDaemon;

before(async () => {
  repo = new TestRepo();
  repo.commit({
    'stacks/vault/stack.yaml': 'kind: terraform\napproval: auto\nsecretVars:\n  db_password: {env: PLUMBLINE_TEST_DB_PASSWORD}\n',
    'stacks/vault/main.tf': [
      'variable "db_password" {',
      '  type      = string',
      '  sensitive = true',
      '}',
      'resource "terraform_data" "db" {',
      '  input = { user = "app", password = var.db_password }',
      '}',
      'output "connection" {',
      '  value     = "derived-${var.db_password}"',
      '  sensitive = true',
      '}',
      '',
    ].join('\n'),
  });
  daemon = await TestDaemon.start({ sourceUrl: repo.url, env: { PLUMBLINE_TEST_DB_PASSWORD: SECRET } });
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
});

test('a seeded secret never shows up in logs, API answers, stored JSON or rendered plans', async () => {
  const unit = await daemon.waitForUnit('vault', 'InSync');
  const plans = await daemon.plans('vault');
  assert.equal(plans[0]!.status, 'Applied');

  const answers = [
    (await daemon.api('/api/v1/status')).text,
    (await daemon.api('/api/v1/plans')).text,
    (await daemon.api(`/api/v1/plans/${unit.planId}`)).text,
    (await daemon.api('/api/v1/history')).text,
    daemon.cli(['show', unit.planId!]).stdout,
  ];
  for (const text of answers) {
    assert.ok(!text.includes(SECRET), 'no secret in API answers or CLI output');
  }
  const detail = (await daemon.api<{ rendered: string }>(`/api/v1/plans/${unit.planId}`)).body;
  assert.match(detail.rendered, /sensitive/);

  assert.ok(daemon.logs.length > 0);
  assert.ok(!daemon.logs.includes(SECRET), 'no secret in the daemon log');
  assert.ok(!daemon.logs.includes(DERIVED));

  // The store (the database and its write-ahead log, byte for byte), the plan
  // documents and renderings. Terraform's own state and binary plan necessarily
  // hold the value; they stay in the 0700 state dir.
  let checked = 0;
  for (const file of storedFiles(daemon.stateDir)) {
    if (!/\.(json|jsonl|txt)$|plumbline\.db(-wal)?$/.test(file) || file.endsWith('terraform.tfstate') || file.endsWith('outputs.json')) continue;
    assert.ok(!readFileSync(file).includes(SECRET), `no secret in ${file}`);
    checked += 1;
  }
  assert.ok(checked >= 4, `checked ${checked} stored files`);
  assert.ok([...storedFiles(daemon.stateDir)].some((f) => f.endsWith('plumbline.db')), 'the store was checked');
  assert.equal(statSync(daemon.stateDir).mode & 0o777, 0o700);
});
