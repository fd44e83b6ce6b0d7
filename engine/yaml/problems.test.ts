import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { formatProblem } from '../errors.ts';
import { parseYamlDocument } from './parse.ts';
import { describeValue, formatPath, ProblemCollector, sortProblems, unknownFieldMessage } from './problems.ts';

test('paths read like the YAML they point at', () => {
  assert.equal(formatPath([]), '');
  assert.equal(formatPath(['ssh', 'user']), 'ssh.user');
  assert.equal(formatPath(['dependsOn', 1]), 'dependsOn[1]');
  assert.equal(formatPath(['vars', 'my key']), 'vars["my key"]');
  assert.equal(formatPath(['secretVars', 'db-pass', 'env']), 'secretVars.db-pass.env');
});

test('values are described the way a person would', () => {
  assert.equal(describeValue('x'), '"x"');
  assert.equal(describeValue(3), '3');
  assert.equal(describeValue(null), 'nothing');
  assert.equal(describeValue([1]), 'a list');
  assert.equal(describeValue({}), 'a mapping');
});

test('unknown fields list the allowed ones and suggest a close one', () => {
  assert.equal(unknownFieldMessage('aproval', ['kind', 'approval']), 'unknown field, did you mean "approval"? (allowed: kind, approval)');
  assert.equal(unknownFieldMessage('zzz', ['kind', 'approval']), 'unknown field (allowed: kind, approval)');
});

const schema = z.strictObject({
  kind: z.enum(['terraform', 'cdktf']),
  port: z.int().min(1).max(65535).optional(),
  tags: z.array(z.string()).optional(),
  ssh: z.strictObject({ user: z.string().optional() }).nullish(),
});

function problemsOf(text: string): string[] {
  const parsed = parseYamlDocument(text, 'f.yaml');
  const report = new ProblemCollector('f.yaml', parsed.locate);
  const result = schema.safeParse(parsed.value, { reportInput: true });
  if (!result.success) report.zodIssues(result.error.issues, schema);
  return sortProblems(report.problems).map(formatProblem);
}

test('zod issues become positioned problems that name the field', () => {
  assert.deepEqual(problemsOf('kind: terraformm\nport: 70000\ntags: [a, 2]\nssh:\n  usr: x\nextra: 1\n'), [
    'f.yaml:1:1: kind: must be one of terraform, cdktf (got "terraformm")',
    'f.yaml:2:1: port: must be at most 65535 (got 70000)',
    'f.yaml:3:11: tags[1]: must be a string (got 2)',
    'f.yaml:5:3: ssh.usr: unknown field, did you mean "user"? (allowed: user)',
    'f.yaml:6:1: extra: unknown field (allowed: kind, port, tags, ssh)',
  ]);
});

test('a missing required field is reported at the start of the document', () => {
  assert.deepEqual(problemsOf('# header\nport: 0.5\n'), [
    'f.yaml:2:1: kind: required field is missing (must be one of terraform, cdktf)',
    'f.yaml:2:1: port: must be a whole number (got 0.5)',
  ]);
});

test('a problem can name one field and point at another', () => {
  const parsed = parseYamlDocument('a: 1\nkind: cdktf\n', 'f.yaml');
  const report = new ProblemCollector('f.yaml', parsed.locate);
  report.at(['entry'], 'required when kind is cdktf', ['kind']);
  assert.deepEqual(report.problems, [{ file: 'f.yaml', line: 2, column: 1, message: 'entry: required when kind is cdktf' }]);
});
