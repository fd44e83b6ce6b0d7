import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from './helpers/daemon.ts';
import { helloStack, writeTerraformRc } from './helpers/terraform.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-cli-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function plumbline(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('validate prints every problem as file:line:col and exits 1', () => {
  const dir = tree({
    'stacks/a/stack.yaml': 'kind: terraform\napproval: sometimes\n',
    'stacks/a/main.tf': '',
    'stacks/b/stack.yaml': 'kind: pulumi\n',
  });
  const r = plumbline(['validate', dir]);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.some((l) => /^stacks\/a\/stack\.yaml:2:\d+: .*approval.*auto, manual, auto-unless-destroy/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^stacks\/b\/stack\.yaml:1:\d+: .*kind.*terraform, cdktf/.test(l)), r.stdout);
});

test('validate accepts the examples shipped in this repository', () => {
  const r = plumbline(['validate', repoRoot]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('plan exits 2 with changes, 0 without, 1 on error, like terraform -detailed-exitcode', () => {
  const rc = writeTerraformRc(tree({ '.keep': '' }));
  const env = { TF_CLI_CONFIG_FILE: rc };
  const changes = plumbline(['plan', tree(helloStack())], env);
  assert.equal(changes.code, 2, changes.stderr);
  assert.match(changes.stdout, /terraform_data\.greeting/);

  const empty = tree({ 'stacks/none/stack.yaml': 'kind: terraform\n', 'stacks/none/main.tf': 'locals {\n  x = 1\n}\n' });
  const none = plumbline(['plan', empty], env);
  assert.equal(none.code, 0, none.stdout + none.stderr);

  const broken = plumbline(['plan', tree({ 'stacks/x/stack.yaml': 'kind: terraform\n', 'stacks/x/main.tf': 'resource "nope" {\n' })], env);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout + broken.stderr, /x/);

  const json = plumbline(['plan', tree(helloStack()), '--stack', 'hello', '--json'], env);
  assert.equal(json.code, 2);
  const parsed = JSON.parse(json.stdout) as { results: Array<{ unit: string; summary: { add: number } }> };
  assert.equal(parsed.results[0]!.unit, 'hello');
  assert.equal(parsed.results[0]!.summary.add, 1);
});

test('nested stacks are found: validate and plan see prod/eu/vpc, and a unit name reads its path', () => {
  const rc = writeTerraformRc(tree({ '.keep': '' }));
  const hello = helloStack();
  const files: Record<string, string> = {};
  for (const [path, text] of Object.entries(hello)) files[path.replace(/^stacks\/hello\//, 'stacks/prod/eu/vpc/')] = text;
  const dir = tree(files);
  const validate = plumbline(['validate', dir]);
  assert.equal(validate.code, 0, validate.stdout + validate.stderr);
  const plan = plumbline(['plan', dir, '--json'], { TF_CLI_CONFIG_FILE: rc });
  assert.equal(plan.code, 2, plan.stderr);
  const parsed = JSON.parse(plan.stdout) as { results: Array<{ unit: string; ok: boolean }> };
  assert.deepEqual(parsed.results.map((r) => [r.unit, r.ok]), [['prod/eu/vpc', true]]);
});

test('plan --stack NAME plans that unit although another unit is invalid, and says so', () => {
  const rc = writeTerraformRc(tree({ '.keep': '' }));
  const dir = tree({ ...helloStack(), 'stacks/broken/stack.yaml': 'kind: terraform\naproval: auto\n', 'stacks/broken/main.tf': '' });
  const one = plumbline(['plan', dir, '--stack', 'hello'], { TF_CLI_CONFIG_FILE: rc });
  assert.equal(one.code, 2, one.stdout + one.stderr);
  assert.match(one.stdout, /terraform_data\.greeting/);
  assert.match(one.stderr, /not planned: broken is invalid \(stacks\/broken\/stack\.yaml:2:1: aproval: unknown field/);
  // Without --stack the invalid unit is a failure of the run, and the valid one is still planned.
  const all = plumbline(['plan', dir, '--json'], { TF_CLI_CONFIG_FILE: rc });
  assert.equal(all.code, 1);
  const parsed = JSON.parse(all.stdout) as { results: Array<{ unit: string; ok: boolean }> };
  assert.deepEqual(parsed.results.map((r) => [r.unit, r.ok]).sort(), [['broken', false], ['hello', true]]);
});

test('validate warns about Terraform code and playbooks no unit reads, and still exits 0', () => {
  const dir = tree({
    ...helloStack({ name: 'prod/app', extra: 'module "net" {\n  source = "../../../modules/net"\n}\n' }),
    'modules/net/main.tf': 'resource "terraform_data" "net" {}\n',
    'legacy/vpc/main.tf': 'resource "terraform_data" "old" {}\n',
    'playbooks/forgotten.yml': '- hosts: all\n  tasks: []\n',
    'roles/web/tasks/main.yml': '- name: a task list, not a playbook\n  ansible.builtin.debug: {msg: hi}\n',
  });
  const r = plumbline(['validate', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes('legacy/vpc/main.tf:1:1: warning: no unit plans this Terraform configuration: no stack folder holds it and no stack calls it as a local module (add a stack.yaml beside it, or call it from a stack)'), r.stdout);
  assert.ok(lines.some((l) => l.startsWith('playbooks/forgotten.yml:1:1: warning: no inventory runs this playbook')), r.stdout);
  // Called as a module (once the Terraform provider reports its module calls) or a role's task list: no warning.
  assert.ok(!lines.some((l) => l.startsWith('roles/')), r.stdout);
  assert.match(r.stderr, /no problems, 2 warnings found|no problems, 3 warnings found/);
});
