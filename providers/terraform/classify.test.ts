import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASK, secrets } from '../../engine/provider-kit.ts';
import { classifyFailure } from './classify.ts';
import { applySummary, parseUiStream } from './diagnostics.ts';

/** One line of terraform's -json UI stream carrying an error diagnostic. */
function diagnostic(summary: string, detail: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ '@level': 'error', '@message': `Error: ${summary}`, type: 'diagnostic', diagnostic: { severity: 'error', summary, detail, ...extra } });
}
const version = JSON.stringify({ '@level': 'info', '@message': 'Terraform 1.11.4', type: 'version', terraform: '1.11.4' });
const result = (stdout: string, stderr = '') => ({ stdout, stderr, exitCode: 1 });

describe('classifyFailure', () => {
  it('uses the diagnostics as the message', () => {
    const stdout = [
      version,
      'Successfully configured the backend "local"!',
      diagnostic('Unclosed configuration block', 'There is no closing brace for this block.', {
        range: { filename: 'main.tf', start: { line: 1, column: 31 }, end: { line: 1, column: 32 } },
      }),
    ].join('\n');
    const failure = classifyFailure('init', result(stdout));
    assert.equal(failure.code, 'E_TERRAFORM_INIT');
    assert.equal(failure.retry, 'stalled');
    assert.equal(failure.message, 'Unclosed configuration block (on main.tf line 1, column 31): There is no closing brace for this block.');
    assert.match(failure.hint, / at main\.tf line 1 /);
    assert.ok(failure.hint.length > 0);
  });

  it('recognizes a held state lock', () => {
    const failure = classifyFailure('plan', result(diagnostic('Error acquiring the state lock', 'Error message: resource temporarily unavailable\nLock Info:\n  ID: c040223d')));
    assert.equal(failure.code, 'E_STATE_LOCKED');
    assert.equal(failure.retry, 'waiting');
  });

  it('recognizes a stale saved plan', () => {
    const failure = classifyFailure(
      'apply',
      result(diagnostic('Saved plan is stale', 'The given plan file can no longer be applied because the state was changed by another operation after the plan was created.')),
    );
    assert.equal(failure.code, 'E_PLAN_STALE');
    assert.equal(failure.retry, 'waiting');
  });

  it('treats registry and network failures as transient', () => {
    const failure = classifyFailure(
      'init',
      result(
        diagnostic(
          'Failed to query available provider packages',
          'Could not retrieve the list of available versions for provider hashicorp/random: could not connect to registry.terraform.io: dial tcp: lookup registry.terraform.io: no such host',
        ),
      ),
    );
    assert.equal(failure.code, 'E_TERRAFORM_NETWORK');
    assert.equal(failure.retry, 'transient');
  });

  it('points at the provider mirror when a provider is missing', () => {
    const failure = classifyFailure(
      'init',
      result(diagnostic('Failed to query available provider packages', 'provider registry.terraform.io/hashicorp/random was not found in any of the search locations')),
    );
    assert.equal(failure.code, 'E_TERRAFORM_INIT');
    assert.match(failure.hint, /mirror/);
  });

  it('classifies by step otherwise', () => {
    assert.equal(classifyFailure('plan', result(diagnostic('Invalid reference', 'x'))).code, 'E_TERRAFORM_PLAN');
    assert.equal(classifyFailure('apply', result(diagnostic('creating EC2 Instance', 'UnauthorizedOperation'))).code, 'E_TERRAFORM_APPLY');
    assert.equal(classifyFailure('apply', result(diagnostic('creating EC2 Instance', 'UnauthorizedOperation'))).retry, 'stalled');
  });

  it('falls back to terraform\'s plain error text, without the box drawing', () => {
    const failure = classifyFailure('init', result('', '╷\n│ Error: Invalid CLI configuration\n│ \n│ Unsupported block type.\n╵\n'));
    assert.equal(failure.message, 'Error: Invalid CLI configuration\n\nUnsupported block type.');
  });

  it('masks known secrets in the message', () => {
    secrets.add('Classify-Secret-771');
    const failure = classifyFailure('plan', result(diagnostic('Invalid value', 'the value Classify-Secret-771 is not allowed')));
    assert.equal(failure.message, `Invalid value: the value ${MASK} is not allowed`);
  });
});

describe('applySummary', () => {
  it('reads the change summary of the apply stream', () => {
    const stdout = [
      version,
      JSON.stringify({ '@message': 'Apply complete! Resources: 1 added, 0 changed, 0 destroyed.', type: 'change_summary', changes: { add: 1, change: 0, import: 0, remove: 0, operation: 'apply' } }),
    ].join('\n');
    assert.equal(applySummary(parseUiStream(stdout)), 'Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
  });
});
