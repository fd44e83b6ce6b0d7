import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFmtErrors } from './syntax-check.ts';
import { fixtureText } from '../../testkit/terraform-fixtures.ts';

describe('parseFmtErrors', () => {
  it('reads each error of terraform fmt with its file, line and words (recorded output)', () => {
    assert.deepEqual(parseFmtErrors(fixtureText('fmt-errors.txt'), 'stacks/x/stack.yaml'), [
      {
        file: 'broken/main.tf',
        line: 2,
        column: 1,
        message: 'Unclosed configuration block: There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.',
      },
      { file: 'broken/network.tf', line: 3, column: 1, message: 'Missing item separator: Expected a comma to mark the beginning of the next item.' },
    ]);
  });

  it('leaves out warnings (a missing CLI configuration) and places an error without a file at the fallback', () => {
    const text = [
      'There are some problems with the CLI configuration:',
      '╷',
      '│ Warning: Unable to open CLI configuration file',
      '│',
      '│ The CLI configuration file at "/home/x/.terraformrc" does not exist.',
      '╵',
      '',
      'Error: No file or directory at stacks/x/gone.tf',
      '',
    ].join('\n');
    assert.deepEqual(parseFmtErrors(text, 'stacks/x/stack.yaml'), [
      { file: 'stacks/x/stack.yaml', line: 1, column: 1, message: 'No file or directory at stacks/x/gone.tf' },
    ]);
  });
});
