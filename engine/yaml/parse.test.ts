import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlDocument, type YamlPath } from './parse.ts';

function at(text: string, path: YamlPath): string {
  const { line, column } = parseYamlDocument(text, 'f.yaml').locate(path);
  return `${line}:${column}`;
}

const BLOCK = `# a comment first
kind: terraform   # trailing comment
vars:
  region: eu-west-1

  tags:
    team: infra
dependsOn:
  - net
  -   db
ssh:
  port: 22
empty:
last: 1
`;

test('block mappings: a field is located at its key', () => {
  assert.equal(at(BLOCK, ['kind']), '2:1');
  assert.equal(at(BLOCK, ['vars']), '3:1');
  assert.equal(at(BLOCK, ['vars', 'region']), '4:3');
  assert.equal(at(BLOCK, ['vars', 'tags', 'team']), '7:5');
  assert.equal(at(BLOCK, ['ssh', 'port']), '12:3');
  assert.equal(at(BLOCK, ['empty']), '13:1');
  assert.equal(at(BLOCK, ['last']), '14:1');
});

test('block sequences: an index is located at its item', () => {
  assert.equal(at(BLOCK, ['dependsOn', 0]), '9:5');
  assert.equal(at(BLOCK, ['dependsOn', 1]), '10:7');
});

test('a missing path falls back to the nearest ancestor that exists', () => {
  assert.equal(at(BLOCK, ['dependsOn', 5]), '8:1');
  assert.equal(at(BLOCK, ['ssh', 'user']), '11:1');
  assert.equal(at(BLOCK, ['empty', 'x', 'y']), '13:1');
  assert.equal(at(BLOCK, ['vars', 'region', 'deeper']), '4:3');
  // The document itself starts at its first key, after the comment.
  assert.equal(at(BLOCK, ['nope']), '2:1');
  assert.equal(at(BLOCK, []), '2:1');
});

test('flow mappings and sequences, nested and across lines', () => {
  const text = 'vars: {a: 1, b, c: [x, {k: v}]}\nlist: [one,\n  two]\n';
  assert.equal(at(text, ['vars', 'a']), '1:8');
  assert.equal(at(text, ['vars', 'b']), '1:14');
  assert.equal(at(text, ['vars', 'c']), '1:17');
  assert.equal(at(text, ['vars', 'c', 1, 'k']), '1:25');
  assert.equal(at(text, ['list', 1]), '3:3');
});

test('a flow collection at the document root or as a sequence item', () => {
  assert.equal(at('{a: 1,\n "b" : [1,\n  2]}', ['b', 1]), '3:3');
  assert.equal(at('[a, b]', [1]), '1:5');
  assert.equal(at('- [a, b]\n- {k: v}\n', [1, 'k']), '2:4');
});

test('compact mappings inside a sequence', () => {
  const text = 'hosts:\n  - name: a\n    port: 1\n  - name: b\n    port: 2\n';
  assert.equal(at(text, ['hosts', 1, 'port']), '5:5');
  assert.equal(at(text, ['hosts', 0]), '2:5');
});

test('quoted keys, explicit keys and block scalars', () => {
  const text = '"quoted key": 1\n? explicit\n: 2\nscript: |\n  echo hi\nafter: 3\n';
  assert.equal(at(text, ['quoted key']), '1:1');
  assert.equal(at(text, ['explicit']), '2:3');
  assert.equal(at(text, ['after']), '6:1');
});

test('anchors, aliases and merge keys', () => {
  const text = 'base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n';
  const parsed = parseYamlDocument(text, 'f.yaml');
  assert.deepEqual(parsed.value, { base: { x: 1 }, other: { x: 1, y: 2 } });
  assert.equal(at(text, ['other', 'y']), '4:3');
  // A merged key is not written in `other`: its closest written ancestor is.
  assert.equal(at(text, ['other', 'x']), '2:1');
});

test('an empty block item does not shift the following items', () => {
  const parsed = parseYamlDocument('seq:\n-\n- b\n', 'f.yaml');
  assert.deepEqual(parsed.value, { seq: [null, 'b'] });
  assert.equal(parsed.locate(['seq', 1]).line, 3);
});

test('CRLF line endings and a byte order mark', () => {
  assert.equal(at('a: 1\r\nb:\r\n  c: 2\r\n', ['b', 'c']), '3:3');
  assert.equal(at('\uFEFFa: 1\nb: 2\n', ['b']), '2:1');
});

test('dates stay strings: variables are passed on as written', () => {
  assert.deepEqual(parseYamlDocument('when: 2024-01-01\n', 'f.yaml').value, { when: '2024-01-01' });
});

test('an empty document is null and locates at the start', () => {
  const parsed = parseYamlDocument('# only a comment\n', 'f.yaml');
  assert.equal(parsed.value, null);
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(parsed.locate(['kind']), { line: 1, column: 1 });
});

test('a syntax error becomes one problem at js-yaml’s mark', () => {
  const parsed = parseYamlDocument('kind: terraform\n  vars: 1\n', 'stacks/a/stack.yaml');
  assert.equal(parsed.value, undefined);
  assert.deepEqual(parsed.problems, [
    { file: 'stacks/a/stack.yaml', line: 2, column: 7, message: 'invalid YAML: bad indentation of a mapping entry' },
  ]);
});

test('duplicate keys and unclosed flow collections are syntax errors', () => {
  assert.match(parseYamlDocument('a: 1\na: 2\n', 'f').problems[0]?.message ?? '', /duplicated mapping key/);
  const unclosed = parseYamlDocument('a: [1, 2\n', 'f').problems[0];
  assert.match(unclosed?.message ?? '', /^invalid YAML: /);
});

test('several documents: the problem points at the second one', () => {
  const [problem] = parseYamlDocument('a: 1\n---\nb: 2\n', 'f').problems;
  assert.equal(problem?.line, 3);
  assert.match(problem?.message ?? '', /single document/);
});
