import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageCell, table, wrapText } from './output.ts';

describe('table cells are never cut', () => {
  it('wraps words to the width and splits only a word longer than a line', () => {
    assert.deepEqual(wrapText('approve the plan to apply it', 12), ['approve the', 'plan to', 'apply it']);
    assert.deepEqual(wrapText('see /var/lib/plumbline/state', 10), ['see', '/var/lib/p', 'lumbline/s', 'tate']);
    assert.deepEqual(wrapText('', 10), ['']);
  });

  it('keeps the first and the last line of a message of several lines', () => {
    assert.equal(messageCell('one line'), 'one line');
    assert.equal(messageCell('what failed\n(hint: what to do)'), 'what failed (hint: what to do)');
    assert.equal(messageCell('what failed:\n  detail\n  more detail\n\nwhat to do'), 'what failed: … what to do');
    assert.equal(messageCell(undefined), '');
  });

  it('wraps the last column under itself to fit a width, and leaves it whole without one', () => {
    const columns = [{ header: 'NAME' }, { header: 'MESSAGE' }];
    const rows = [['web', 'the plan deletes or replaces something: approve it to apply (auto-unless-destroy)']];
    assert.equal(table(columns, rows), `NAME  MESSAGE\nweb   ${rows[0]![1]}`);
    assert.equal(
      table(columns, rows, { width: 40 }),
      ['NAME  MESSAGE', 'web   the plan deletes or replaces', '      something: approve it to apply', '      (auto-unless-destroy)'].join('\n'),
    );
    // Too narrow to wrap usefully: the terminal wraps the line, nothing is dropped.
    assert.equal(table(columns, rows, { width: 20 }), `NAME  MESSAGE\nweb   ${rows[0]![1]}`);
  });
});
