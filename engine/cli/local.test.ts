import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printLocalPlans } from './local.ts';
import { Output } from './output.ts';
import { captureIO } from '../../testkit/fake-engine.ts';

describe('plumbline plan output', () => {
  it('prints each unit’s rendered plan or error, then a summary on stderr', () => {
    const io = captureIO();
    printLocalPlans({ out: new Output(io), setExitCode() {} }, [
      { unit: 'web', kind: 'terraform', state: 'planned', ok: true, hasChanges: true, summary: { add: 1, change: 0, destroy: 2, replace: 0 }, rendered: '+ a\n- b\n- c\n' },
      { unit: 'dns', kind: 'cdktf', state: 'planned', ok: true, hasChanges: false, summary: { add: 0, change: 0, destroy: 0, replace: 0 }, rendered: '' },
      { unit: 'hosts', kind: 'ansible', state: 'failed', ok: false, error: { code: 'E_SSH', message: 'host unreachable', hint: 'check the inventory' } },
    ]);
    assert.equal(
      io.out,
      [
        '== web (terraform): +1 ~0 -2 ±0',
        '+ a',
        '- b',
        '- c',
        '',
        '== dns (cdktf): no changes',
        '',
        '== hosts (ansible): failed',
        'error (E_SSH): host unreachable',
        'hint: check the inventory',
        '',
      ].join('\n'),
    );
    assert.equal(io.err, '3 units planned, 1 with changes, 1 failed\n');
  });

  it('prints a repository-wide failure without a unit summary', () => {
    const io = captureIO();
    printLocalPlans({ out: new Output(io), setExitCode() {} }, [
      { unit: '*', kind: 'repository', state: 'failed', ok: false, error: { code: 'E_VALIDATION', message: 'stacks/a/stack.yaml:1:1: bad' } },
    ]);
    assert.equal(io.out, '== repository: failed\nerror (E_VALIDATION): stacks/a/stack.yaml:1:1: bad\n');
    assert.equal(io.err, '');
  });
});
