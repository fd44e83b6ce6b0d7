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
