import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadDefinitions } from '../engine/definitions/load.ts';
import { providerProblems } from '../engine/definitions/provider-checks.ts';
import { formatProblem } from '../engine/errors.ts';
import { createTerraformProvider } from '../providers/terraform/index.ts';
import { repoRoot } from '../testkit/files.ts';
import { removeTempTrees, tempTree } from '../testkit/files.ts';
import { providerContext, testConfig } from '../testkit/providers.ts';

/**
 * `plumbline validate` on Terraform repositories laid out as public projects
 * lay theirs out: shared modules in modules/ (variables, main and outputs in
 * their own files), one folder per stack and environment in stacks/. The
 * real CLI, the real terraform; what the daemon checks without a process is
 * checked through the same provider with processes off.
 */

after(removeTempTrees);

function validate(dir: string): { code: number | null; lines: string[]; output: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), 'validate', dir], { encoding: 'utf8' });
  return { code: r.status, lines: r.stdout.trim().split('\n').filter(Boolean), output: r.stdout + r.stderr };
}

const NETWORK_MODULE = {
  'modules/network/variables.tf': 'variable "cidr" {\n  type        = string\n  description = "Address range of the network."\n}\n',
  'modules/network/main.tf': 'resource "terraform_data" "network" {\n  input = var.cidr\n}\n',
  'modules/network/outputs.tf': 'output "id" {\n  value = terraform_data.network.id\n}\n',
};

const WEB_STACK = {
  'stacks/prod/web/variables.tf': [
    'variable "environment" {',
    '  type    = string',
    '  default = "staging"',
    '}',
    '',
    'variable "region" {',
    '  type = string',
    '}',
    '',
    'variable "db_password" {',
    '  type      = string',
    '  sensitive = true',
    '  default   = ""',
    '}',
    '',
  ].join('\n'),
  'stacks/prod/web/main.tf': [
    'module "network" {',
    '  source = "../../../modules/network"',
    '  cidr   = "10.0.0.0/16"',
    '}',
    '',
    'resource "terraform_data" "web" {',
    '  input = "${var.environment}-${var.region}-${module.network.id}"',
    '}',
    '',
  ].join('\n'),
  'stacks/prod/web/stack.yaml': 'kind: terraform\napproval: auto\nvars:\n  region: eu-west-1\n  environment: prod\n',
};

describe('plumbline validate on Terraform stacks', { timeout: 120_000 }, () => {
  it('accepts a well-formed repository', () => {
    const r = validate(tempTree({ ...NETWORK_MODULE, ...WEB_STACK }));
    assert.equal(r.code, 0, r.output);
  });

  it('refuses a vars or secretVars entry the stack does not declare, at its line, with the closest name', () => {
    const manifest = 'kind: terraform\napproval: auto\nvars:\n  region: eu-west-1\n  enviroment: prod\nsecretVars:\n  db_pasword: {env: DB_PASSWORD}\n';
    const r = validate(tempTree({ ...NETWORK_MODULE, ...WEB_STACK, 'stacks/prod/web/stack.yaml': manifest }));
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(r.lines, [
      'stacks/prod/web/stack.yaml:5:3: vars.enviroment: the configuration declares no variable "enviroment" (did you mean "environment"? declared: db_password, environment, region)',
      'stacks/prod/web/stack.yaml:7:3: secretVars.db_pasword: the configuration declares no variable "db_pasword" (did you mean "db_password"? declared: db_password, environment, region)',
    ]);
  });

  it('reports each syntax error with its file and line, in the stack and in the modules it calls', () => {
    const r = validate(
      tempTree({
        ...NETWORK_MODULE,
        ...WEB_STACK,
        'modules/network/main.tf': 'resource "terraform_data" "network" {\n  input = var.cidr\n',
        'stacks/prod/web/outputs.tf': 'output "web" {\n  value = [terraform_data.web.id\n}\n',
        'stacks/prod/api/stack.yaml': 'kind: terraform\napproval: auto\n',
        'stacks/prod/api/main.tf.json': '{\n  "resource": {\n    "terraform_data": { "api": { "input": "x" } }\n  ,\n}\n',
      }),
    );
    assert.equal(r.code, 1, r.output);
    assert.deepEqual(r.lines, [
      'modules/network/main.tf:1:1: Unclosed configuration block: There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.',
      'stacks/prod/api/main.tf.json:5:1: not valid JSON: Expected double-quoted property name',
      'stacks/prod/web/outputs.tf:3:1: Missing item separator: Expected a comma to mark the beginning of the next item.',
    ]);
  });

  it('refuses a module taken from outside the repository, in the stack and in a module it calls', () => {
    const r = validate(
      tempTree({
        ...NETWORK_MODULE,
        ...WEB_STACK,
        'modules/network/main.tf': 'resource "terraform_data" "network" {\n  input = var.cidr\n}\n\nmodule "flow_logs" {\n  source = "/opt/terraform/modules/flow-logs"\n}\n',
        'stacks/prod/web/monitoring.tf': '# Shared with another repository checked out beside this one.\nmodule "monitoring" {\n  source = "../../../../platform/modules/monitoring"\n}\n',
      }),
    );
    assert.equal(r.code, 1, r.output);
    const hint = '(move the module into the repository and call it with a relative path that stays inside it, or use a registry or Git source)';
    assert.deepEqual(r.lines, [
      `modules/network/main.tf:5:1: module "flow_logs": source "/opt/terraform/modules/flow-logs" is an absolute path; Plumbline runs only code from the repository ${hint}`,
      `stacks/prod/web/monitoring.tf:2:1: module "monitoring": source "../../../../platform/modules/monitoring" is a path that leaves the repository; Plumbline runs only code from the repository ${hint}`,
    ]);
  });

  it('checks names and module sources without a process, as the daemon does, and leaves the syntax to plumbline validate', async () => {
    const dir = tempTree({
      ...NETWORK_MODULE,
      ...WEB_STACK,
      'stacks/prod/web/stack.yaml': 'kind: terraform\napproval: auto\nvars:\n  region: eu-west-1\n  enviroment: prod\n',
      'stacks/prod/web/outputs.tf': 'output "web" {\n  value = [terraform_data.web.id\n}\n',
      'stacks/prod/web/monitoring.tf': 'module "monitoring" {\n  source = "/opt/modules/monitoring"\n}\n',
    });
    const config = testConfig({ source: { url: dir }, stateDir: join(dir, '.state') });
    const provider = createTerraformProvider(providerContext(config));
    const { units } = await loadDefinitions(dir, config.defaults);
    const web = units.find((u) => u.name === 'prod/web')!;
    const staticProblems = (await providerProblems(web, dir, provider, { processes: false })).map(formatProblem);
    assert.deepEqual(staticProblems, [
      'stacks/prod/web/stack.yaml:5:3: vars.enviroment: the configuration declares no variable "enviroment" (did you mean "environment"? declared: db_password, environment, region)',
      'stacks/prod/web/monitoring.tf:1:1: module "monitoring": source "/opt/modules/monitoring" is an absolute path; Plumbline runs only code from the repository (move the module into the repository and call it with a relative path that stays inside it, or use a registry or Git source)',
    ]);
    const withProcesses = (await providerProblems(web, dir, provider, { processes: true })).map(formatProblem);
    assert.deepEqual(withProcesses, [...staticProblems, 'stacks/prod/web/outputs.tf:3:1: Missing item separator: Expected a comma to mark the beginning of the next item.']);
  });
});
