import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ToolError } from '../../engine/provider-kit.ts';
import { addressOfPath, blockAddress, elementsOf, jsonPathAtLine, locationOfTrace } from './source-map.ts';
import { pointAtTypeScript, replaceFileMentions, type MappedDiagnostic } from './terraform-errors.ts';

// A stack synthesized by cdktf 0.21 with Plumbline's creation traces (made
// repository-relative), and the diagnostics terraform 1.11 printed planning it.
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const CONFIG_TEXT = readFileSync(join(FIXTURES, 'diag.cdk.tf.json'), 'utf8');
const DIAGNOSTICS = JSON.parse(readFileSync(join(FIXTURES, 'diag.diagnostics.json'), 'utf8')) as unknown[];

describe('cdk.tf.json back to the TypeScript', () => {
  test('the key path at a line', () => {
    assert.deepEqual(jsonPathAtLine(CONFIG_TEXT, 41), ['resource', 'aws_vpc', 'vpc', 'cidr_block']);
    assert.deepEqual(jsonPathAtLine(CONFIG_TEXT, 56), ['resource', 'terraform_data', 'note', 'input']);
    assert.deepEqual(jsonPathAtLine('{\n  "a": [\n    1,\n    {\n      "b": true\n    }\n  ]\n}\n', 5), ['a', 1, 'b']);
    assert.equal(jsonPathAtLine(CONFIG_TEXT, 10_000), null);
  });

  test('addresses of blocks', () => {
    assert.equal(addressOfPath(['resource', 'aws_vpc', 'vpc', 'cidr_block']), 'aws_vpc.vpc');
    assert.equal(addressOfPath(['data', 'aws_ami', 'al2023']), 'data.aws_ami.al2023');
    assert.equal(addressOfPath(['module', 'vpc', 'source']), 'module.vpc');
    assert.equal(addressOfPath(['variable', 'region']), 'var.region');
    assert.equal(addressOfPath(['terraform', 'backend']), null);
    assert.equal(blockAddress('module.vpc.aws_subnet.private[0]'), 'module.vpc');
    assert.equal(blockAddress('aws_instance.web["a"]'), 'aws_instance.web');
    assert.equal(blockAddress('data.aws_ami.al2023'), 'data.aws_ami.al2023');
  });

  test('each block with its construct path and the line that created it', () => {
    const elements = elementsOf(JSON.parse(CONFIG_TEXT));
    assert.deepEqual(elements.get('aws_vpc.vpc'), {
      address: 'aws_vpc.vpc',
      constructPath: 'diag/vpc',
      location: { file: 'stacks/diag/main.ts', line: 7, column: 1 },
    });
    assert.deepEqual(elements.get('terraform_data.note')?.location, { file: 'stacks/diag/main.ts', line: 8, column: 14 });
    assert.equal(locationOfTrace(['at new Vpc (/abs/node_modules/x.js:1:2)']), undefined, 'absolute paths are not repository files');
  });

  test('structured diagnostics: each names the TypeScript line, the address and the construct', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plumbline-cdktf-map-'));
    try {
      await copyFile(join(FIXTURES, 'diag.cdk.tf.json'), join(dir, 'cdk.tf.json'));
      const original = new ToolError('E_TERRAFORM_PLAN', 'terraform text (cdk.tf.json line 41)', {
        retry: 'stalled',
        hint: 'fix the Terraform configuration',
        details: { command: 'terraform plan', diagnostics: [...DIAGNOSTICS, DIAGNOSTICS[0]] },
      });
      const mapped = (await pointAtTypeScript(original, dir)) as ToolError;
      assert.equal(mapped.code, 'E_TERRAFORM_PLAN');
      assert.equal(mapped.retry, 'stalled');
      assert.equal(
        mapped.message,
        [
          'stacks/diag/main.ts:7:1: expected cidr_block to contain a valid Value, got: 10.0.0.0/33 with err: invalid CIDR address: 10.0.0.0/33 (aws_vpc.vpc, construct diag/vpc)',
          'stacks/diag/main.ts:8:14: Reference to undeclared input variable: An input variable with the name "nope" has not been declared. This variable can be declared with a variable "nope" {} block. (terraform_data.note, construct diag/note)',
        ].join('\n'),
      );
      assert.match(mapped.hint ?? '', /^stacks\/diag\/main\.ts:7 creates aws_vpc\.vpc \(construct diag\/vpc\): fix it there/);
      assert.deepEqual({ file: mapped.details?.file, line: mapped.details?.line }, { file: 'stacks/diag/main.ts', line: 7 });
      const diagnostics = mapped.details?.diagnostics as MappedDiagnostic[];
      assert.equal(diagnostics[1]?.source?.address, 'terraform_data.note');
      assert.equal(mapped.cause, original);

      // Without structured diagnostics, the text's mentions of cdk.tf.json are replaced.
      const plain = (await pointAtTypeScript(new ToolError('E_TERRAFORM_PLAN', 'Reference to undeclared input variable (cdk.tf.json line 56)'), dir)) as ToolError;
      assert.equal(plain.message, 'Reference to undeclared input variable (stacks/diag/main.ts:8:14, terraform_data.note, construct diag/note)');
      // Errors about something else come back as they were.
      const other = new ToolError('E_STATE_LOCKED', 'Error acquiring the state lock');
      assert.equal(await pointAtTypeScript(other, dir), other);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a line outside any block is left as it was', () => {
    const stack = { text: CONFIG_TEXT, elements: elementsOf(JSON.parse(CONFIG_TEXT)) };
    assert.equal(replaceFileMentions('odd (cdk.tf.json line 2)', stack), 'odd (cdk.tf.json line 2)');
  });
});
