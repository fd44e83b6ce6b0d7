import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../engine/log.ts';
import { openStore } from '../engine/store/open.ts';
import { repoRoot } from '../testkit/files.ts';
import { helloStack, writeTerraformRc } from '../testkit/terraform.ts';

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

/** `plumbline plan` keeps its caches here, not in the user's own. */
let cacheHome: string | undefined;

function plumbline(args: string[], env: Record<string, string> = {}, cwd?: string) {
  cacheHome ??= tree({ '.keep': '' });
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cacheHome, ...env }, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface PlanJson {
  results: Array<{ unit: string; state: string; ok: boolean; waitingFor?: string[]; message?: string; summary?: { add: number }; error?: { message: string } }>;
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
  // Called as a module, or a role's task list: no warning.
  assert.ok(!lines.some((l) => l.startsWith('roles/')), r.stdout);
  assert.ok(!lines.some((l) => l.startsWith('modules/net/')), r.stdout);
  assert.match(r.stderr, /no problems, 2 warnings found/);
});

test('a unit that takes outputs from an upstream never applied waits, and does not fail the run', async () => {
  const rc = writeTerraformRc(tree({ '.keep': '' }));
  const dir = tree({
    ...helloStack({ name: 'net', value: '10.0.0.0/16' }),
    'stacks/app/stack.yaml': 'kind: terraform\ndependsOn: [net]\nvars:\n  cidr: {fromOutput: net.greeting}\n',
    'stacks/app/main.tf': 'variable "cidr" {\n  type = string\n}\n\nresource "terraform_data" "app" {\n  input = var.cidr\n}\n',
  });
  const all = plumbline(['plan', dir, '--json'], { TF_CLI_CONFIG_FILE: rc });
  assert.equal(all.code, 2, all.stdout + all.stderr);
  const parsed = JSON.parse(all.stdout) as PlanJson;
  assert.deepEqual(parsed.results.map((r) => [r.unit, r.state, r.ok]), [['app', 'waiting', true], ['net', 'planned', true]]);
  const app = parsed.results[0]!;
  assert.deepEqual(app.waitingFor, ['net']);
  assert.match(app.message ?? '', /^takes outputs from net, which has never been applied here: without --config/);

  const text = plumbline(['plan', dir], { TF_CLI_CONFIG_FILE: rc });
  assert.equal(text.code, 2);
  assert.match(text.stdout, /^== app \(terraform\): waiting for net$/m);
  assert.match(text.stderr, /^1 unit planned, 1 with changes, 1 waiting$/m);
  // Alone, the waiting unit changes nothing: exit 0.
  const alone = plumbline(['plan', dir, '--stack', 'app'], { TF_CLI_CONFIG_FILE: rc });
  assert.equal(alone.code, 0, alone.stdout + alone.stderr);

  // Against a daemon state where net was applied, app is planned with its output.
  const state = join(tree({ '.keep': '' }), 'state');
  const store = await openStore({ stateDir: state }, silentLogger);
  await store.write((tx) => tx.putOutputs('net', { greeting: { value: '10.0.0.0/16', sensitive: false } }));
  await store.close();
  const config = join(dirname(state), 'plumbline.yaml');
  writeFileSync(config, `source:\n  url: file://${dir}\nstateDir: ${state}\nterraform:\n  cliConfigFile: ${rc}\n`);
  const applied = plumbline(['plan', dir, '--stack', 'app', '--config', config, '--json']);
  assert.equal(applied.code, 2, applied.stdout + applied.stderr);
  const planned = (JSON.parse(applied.stdout) as PlanJson).results[0]!;
  assert.equal(planned.state, 'planned');
  assert.equal(planned.summary?.add, 1);
});

/** A stack that needs the hashicorp/aws provider: only the mirror the CLI configuration names has it offline. */
const AWS_STACK = {
  'stacks/aws/stack.yaml': 'kind: terraform\n',
  'stacks/aws/main.tf': 'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n      version = "5.100.0"\n    }\n  }\n}\n',
};

test('plan uses the Terraform CLI configuration the daemon would: the config\u2019s cliConfigFile, else TF_CLI_CONFIG_FILE', () => {
  const dir = tree(AWS_STACK);
  // A relative TF_CLI_CONFIG_FILE names the file from where plumbline runs, not from Terraform's workspace.
  const here = tree({ '.keep': '' });
  writeTerraformRc(here);
  const relative = plumbline(['plan', dir], { TF_CLI_CONFIG_FILE: 'terraformrc' }, here);
  assert.equal(relative.code, 0, relative.stdout + relative.stderr);

  // With --config, its terraform.cliConfigFile wins over the environment (here a mirror without providers).
  const empty = tree({ 'mirror/.keep': '' });
  writeFileSync(join(empty, 'terraformrc'), `provider_installation {\n  filesystem_mirror {\n    path = "${join(empty, 'mirror')}"\n  }\n}\n`);
  const config = join(here, 'plumbline.yaml');
  writeFileSync(config, `source:\n  url: file://${dir}\nstateDir: ${join(here, 'state')}\nterraform:\n  cliConfigFile: terraformrc\n`);
  const configured = plumbline(['plan', dir, '--config', config], { TF_CLI_CONFIG_FILE: join(empty, 'terraformrc') });
  assert.equal(configured.code, 0, configured.stdout + configured.stderr);
  const fromEnv = plumbline(['plan', dir], { TF_CLI_CONFIG_FILE: join(empty, 'terraformrc') });
  assert.equal(fromEnv.code, 1, 'the environment\u2019s configuration is used without --config');
  assert.match(fromEnv.stdout, /hashicorp\/aws/);
});

test('plan on this repository\u2019s own examples exits 0 or 2: the web inventory waits for machines, network plans offline', () => {
  const rc = writeTerraformRc(tree({ '.keep': '' }));
  const r = plumbline(['plan', repoRoot, '--json'], { TF_CLI_CONFIG_FILE: rc });
  assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  const results = (JSON.parse(r.stdout) as PlanJson).results;
  assert.deepEqual(
    results.map((x) => [x.unit, x.state]),
    [['hello', 'planned'], ['machines', 'planned'], ['network', 'planned'], ['web', 'waiting']],
    JSON.stringify(results.map((x) => x.error?.message ?? '')),
  );
  assert.deepEqual(results.find((x) => x.unit === 'web')?.waitingFor, ['machines']);
  assert.ok(results.find((x) => x.unit === 'network')!.summary!.add > 0);
});
