import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { PlanDetail } from '../engine/api/contract.ts';
import { TestDaemon } from '../testkit/daemon.ts';
import { storedFiles } from '../testkit/files.ts';
import { TestRepo } from '../testkit/git-repo.ts';

/**
 * A secret rotated between two commits, across a daemon restart (the new
 * daemon has never seen the old values): neither the old nor the new value
 * may show anywhere. `db_password` is declared `sensitive = true`, so
 * Terraform marks what derives from it; `api_token` is a secretVar whose
 * Terraform variable is not marked, so Terraform marks nothing it reaches.
 * Both are used in an attribute of their own and inside a larger string.
 */
const OLD = { ROTATE_DB_PASSWORD: 'Old-Db-Pw-7c2e91', ROTATE_API_TOKEN: 'Old-Api-Tok-3f8a07' };
const NEW = { ROTATE_DB_PASSWORD: 'New-Db-Pw-51d4b6', ROTATE_API_TOKEN: 'New-Api-Tok-9e06c3' };
const ALL = [...Object.values(OLD), ...Object.values(NEW)];

const MAIN_TF = [
  'variable "db_password" {',
  '  type      = string',
  '  sensitive = true',
  '}',
  '',
  'variable "api_token" {',
  '  type        = string',
  '  description = "Token of the billing API."',
  '}',
  '',
  'resource "terraform_data" "database" {',
  '  input = { user = "app", password = var.db_password }',
  '}',
  '',
  'resource "terraform_data" "connection" {',
  '  input = "user=app password=${var.db_password} host=db.internal"',
  '}',
  '',
  'resource "terraform_data" "billing" {',
  '  input = { header = "Bearer ${var.api_token}", token = var.api_token, endpoint = "https://billing.internal" }',
  '}',
  '',
  'output "billing_header" {',
  '  value = terraform_data.billing.output.header',
  '}',
  '',
].join('\n');

const MANIFEST = 'kind: terraform\napproval: auto\nsecretVars:\n  db_password: {env: ROTATE_DB_PASSWORD}\n  api_token: {env: ROTATE_API_TOKEN}\n';

const repo = new TestRepo();
const daemons: TestDaemon[] = [];
after(async () => {
  for (const daemon of daemons.reverse()) await daemon.dispose();
  repo.dispose();
});

function assertNoSecret(text: string, where: string): void {
  for (const secret of ALL) assert.ok(!text.includes(secret), `${secret} shows in ${where}`);
}

test('a rotated secret shows neither its old nor its new value, in plans, history, logs or stored files', { timeout: 600_000 }, async () => {
  repo.commit({ 'stacks/billing/stack.yaml': MANIFEST, 'stacks/billing/main.tf': MAIN_TF }, 'billing stack');
  const first = await TestDaemon.start({ sourceUrl: repo.url, env: OLD });
  daemons.push(first);
  await first.waitForUnit('billing', 'InSync');
  assert.equal(await first.stop(), 0);

  // A new daemon over the same state, started with the rotated secrets.
  const second = await TestDaemon.start({ sourceUrl: repo.url, stateDir: first.stateDir, env: NEW });
  daemons.push(second);
  const revision = repo.commit({ 'stacks/billing/main.tf': `# Billing integration.\n${MAIN_TF}` }, 'billing: comment');
  await second.sync();
  const unit = await second.waitForUnit('billing', 'InSync', { revision });

  const plans = await second.plans('billing');
  assert.ok(plans.length >= 2, `plans: ${plans.map((p) => p.id).join(', ')}`);
  const details = [];
  for (const plan of plans) {
    const detail = await second.api<PlanDetail>(`/api/v1/plans/${plan.id}`);
    assertNoSecret(detail.text, `the API's plan ${plan.id}`);
    assertNoSecret(second.cli(['show', plan.id]).stdout, `plumbline show ${plan.id}`);
    details.push(detail.body);
  }
  // The rotation was planned (by the restart or the commit) and shows what changes, masked.
  const rotation = details.filter((d) => d.plan.summary.change > 0);
  assert.equal(rotation.length, 1, JSON.stringify(plans.map((p) => [p.revision.slice(0, 8), p.summary])));
  assert.deepEqual(rotation[0]!.plan.summary, { add: 0, change: 3, destroy: 0, replace: 0 });
  assert.match(rotation[0]!.rendered, /~ input\.header +=.*\(sensitive value\) -> \(sensitive value\)/);
  assert.match(rotation[0]!.rendered, /input\.endpoint|https:\/\/billing\.internal/, 'values beside the secret stay readable');

  for (const path of ['/api/v1/status', '/api/v1/plans', '/api/v1/history?limit=1000']) assertNoSecret((await second.api(path)).text, path);
  for (const args of [['status'], ['history'], ['plans']]) assertNoSecret(second.cli(args).stdout, `plumbline ${args.join(' ')}`);
  assertNoSecret(JSON.stringify(unit), 'the unit status');
  assertNoSecret(first.logs, "the first daemon's log");
  assertNoSecret(second.logs, "the second daemon's log");

  // Terraform's own state and binary plans hold the values; they stay in the 0700 state dir.
  let checked = 0;
  for (const file of storedFiles(second.stateDir)) {
    if (!/\.(json|jsonl|txt)$/.test(file) || file.endsWith('terraform.tfstate') || file.endsWith('outputs.json')) continue;
    assertNoSecret(readFileSync(file, 'utf8'), file);
    checked += 1;
  }
  assert.ok(checked >= 5, `checked ${checked} stored files`);
});
