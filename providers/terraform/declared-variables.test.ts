import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { testUnit } from '../../testkit/providers.ts';
import { declaredVariables, undeclaredVariableError, undeclaredVariables } from './declared-variables.ts';

const unit = testUnit({
  name: 'prod/web',
  type: 'stack',
  kind: 'terraform',
  path: 'stacks/prod/web',
  vars: { enviroment: 'demo', region: 'eu-west-1' },
  secretVars: { db_pasword: { env: 'DB' } },
  spec: {},
});

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plumbline-declared-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

describe('declaredVariables', () => {
  it('reads the variable blocks of the .tf and .tf.json files terraform reads, not of sub-folders or backups', async () => {
    const dir = await folder({
      'variables.tf': 'variable "environment" {\n  type = string\n}\nvariable "region" {}\n',
      'extra.tf.json': JSON.stringify({ variable: { db_password: { sensitive: true }, '//': 'a comment' } }),
      'list.tf.json': JSON.stringify({ variable: [{ replicas: { type: 'number' } }] }),
      'variables.tf~': 'variable "backup" {}\n',
      'modules/x/main.tf': 'variable "in_module" {}\n',
    });
    assert.deepEqual(await declaredVariables(dir), ['db_password', 'environment', 'region', 'replicas']);
  });
});

describe('undeclaredVariables', () => {
  it('names the manifest field and the closest declared variable', () => {
    const found = undeclaredVariables(unit, ['enviroment', 'region', 'db_pasword'], ['db_password', 'environment', 'region']);
    assert.deepEqual(found, [
      { field: ['vars', 'enviroment'], message: 'the configuration declares no variable "enviroment" (did you mean "environment"? declared: db_password, environment, region)' },
      { field: ['secretVars', 'db_pasword'], message: 'the configuration declares no variable "db_pasword" (did you mean "db_password"? declared: db_password, environment, region)' },
    ]);
  });

  it('guesses nothing when no name is close, and says when nothing is declared', () => {
    assert.deepEqual(undeclaredVariables(unit, ['zone'], ['environment']), [
      { field: ['vars', 'zone'], message: 'the configuration declares no variable "zone" (declared: environment)' },
    ]);
    assert.equal(undeclaredVariables(unit, ['zone'], [])[0]!.message, 'the configuration declares no variable "zone" (it declares no variables)');
  });
});

describe('undeclaredVariableError', () => {
  it('places each entry on its manifest line, stalled with a hint', async () => {
    const repo = await folder({ 'stacks/prod/web/stack.yaml': 'kind: terraform\nvars:\n  region: eu-west-1\n  enviroment: demo\n' });
    const error = await undeclaredVariableError(unit, undeclaredVariables(unit, ['enviroment'], ['environment', 'region']), repo);
    assert.equal(error.code, 'E_UNDECLARED_VARIABLE');
    assert.equal(error.retry, 'stalled');
    assert.equal(
      error.message,
      'stacks/prod/web/stack.yaml:4:3: vars.enviroment: the configuration declares no variable "enviroment" (did you mean "environment"? declared: environment, region)',
    );
    assert.equal(error.hint, 'rename vars.enviroment in stacks/prod/web/stack.yaml to a variable the stack declares, or declare variable "enviroment" in stacks/prod/web');
  });
});
