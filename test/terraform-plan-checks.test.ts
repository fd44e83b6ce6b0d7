import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { LocalPlanResult } from '../engine/cli/types.ts';
import { repoRoot } from '../testkit/files.ts';
import { removeTempTrees, tempTree } from '../testkit/files.ts';
import { writeTerraformRc } from '../testkit/terraform.ts';

/**
 * What a plan refuses before terraform runs any of the stack's code, through
 * `plumbline plan` (which no `validate` precedes): a variable the stack does
 * not declare (for CDKTF known only once the app is synthesized) and a module
 * taken from outside the repository.
 */

after(removeTempTrees);

function plan(dir: string): { code: number | null; results: LocalPlanResult[]; output: string } {
  const rc = writeTerraformRc(tempTree({}));
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), 'plan', dir, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, TF_CLI_CONFIG_FILE: rc, XDG_CACHE_HOME: tempTree({}) },
  });
  const parsed = r.stdout.trim() ? (JSON.parse(r.stdout) as { results: LocalPlanResult[] }) : { results: [] };
  return { code: r.status, results: parsed.results, output: r.stdout + r.stderr };
}

describe('plan-time checks of Terraform and CDKTF stacks', { timeout: 300_000 }, () => {
  it('a Terraform stack with a misspelt variable is not planned', () => {
    const dir = tempTree({
      'stacks/web/variables.tf': 'variable "environment" {\n  type    = string\n  default = "staging"\n}\n\nvariable "region" {\n  type = string\n}\n',
      'stacks/web/main.tf': 'resource "terraform_data" "web" {\n  triggers_replace = [var.environment]\n  input            = var.region\n}\n',
      'stacks/web/stack.yaml': 'kind: terraform\napproval: auto\nvars:\n  region: eu-west-1\n  enviroment: prod\n',
    });
    const r = plan(dir);
    assert.equal(r.code, 1, r.output);
    const [web] = r.results;
    assert.equal(web?.ok, false, r.output);
    assert.equal(web?.error?.code, 'E_UNDECLARED_VARIABLE');
    assert.equal(
      web?.error?.message,
      'stacks/web/stack.yaml:5:3: vars.enviroment: the configuration declares no variable "enviroment" (did you mean "environment"? declared: environment, region)',
    );
    assert.match(web?.error?.hint ?? '', /rename vars\.enviroment in stacks\/web\/stack\.yaml/);
  });

  it('a CDKTF stack with a misspelt variable fails once synthesized, naming the manifest field', () => {
    const main = [
      "import { App, TerraformStack, TerraformVariable, TerraformResource } from 'cdktf';",
      '',
      'const app = new App();',
      "const stack = new TerraformStack(app, 'cache');",
      "const environment = new TerraformVariable(stack, 'environment', { type: 'string', default: 'staging' });",
      "const nodes = new TerraformVariable(stack, 'node_count', { type: 'number', default: 1 });",
      "const cache = new TerraformResource(stack, 'cache', { terraformResourceType: 'terraform_data' });",
      "cache.addOverride('input', `${environment.stringValue}-${nodes.numberValue}`);",
      'app.synth();',
      '',
    ].join('\n');
    const dir = tempTree({
      'stacks/cache/main.ts': main,
      'stacks/cache/stack.yaml': 'kind: cdktf\nentry: main.ts\nvars:\n  environment: prod\n  node_cuont: 3\n',
    });
    const r = plan(dir);
    assert.equal(r.code, 1, r.output);
    const [cache] = r.results;
    assert.equal(cache?.error?.code, 'E_UNDECLARED_VARIABLE', r.output);
    assert.equal(
      cache?.error?.message,
      'stacks/cache/stack.yaml:5:3: vars.node_cuont: the configuration declares no variable "node_cuont" (did you mean "node_count"? declared: environment, node_count)',
    );
    assert.match(cache?.error?.hint ?? '', /new TerraformVariable\(stack, 'node_cuont'/);
  });

  it('a module from outside the repository is refused before terraform reads it', () => {
    // A module beside the repository on the control host; its provisioner would run there on apply.
    const outside = tempTree({ 'modules/flow-logs/main.tf': 'resource "terraform_data" "hook" {\n  provisioner "local-exec" {\n    command = "echo exporting flow logs"\n  }\n}\n' });
    const source = join(outside, 'modules/flow-logs');
    const dir = tempTree({
      'stacks/web/stack.yaml': 'kind: terraform\napproval: auto\n',
      'stacks/web/main.tf': `resource "terraform_data" "web" {\n  input = "web"\n}\n\nmodule "flow_logs" {\n  source = "${source}"\n}\n`,
    });
    const r = plan(dir);
    assert.equal(r.code, 1, r.output);
    const [web] = r.results;
    assert.equal(web?.error?.code, 'E_INPUT_OUTSIDE_REPOSITORY', r.output);
    assert.equal(web?.error?.message, `stacks/web/main.tf:5:1: module "flow_logs": source "${source}" is an absolute path; Plumbline runs only code from the repository`);
    assert.match(web?.error?.hint ?? '', /move the module into the repository/);
  });
});
