import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToolError } from '../../engine/errors.ts';
import { MASK, SecretRegistry } from '../../engine/secrets.ts';
import { parseOutputs } from './outputs.ts';

describe('parseOutputs', () => {
  it('returns every output and registers the sensitive ones', () => {
    const registry = new SecretRegistry();
    const text = JSON.stringify({
      greeting: { sensitive: false, type: 'string', value: 'hello world' },
      password: { sensitive: true, type: 'string', value: 'Output-Secret-3141' },
      ids: { sensitive: false, type: ['list', 'string'], value: ['a', 'b'] },
    });
    assert.deepEqual(parseOutputs(text, registry), {
      greeting: { value: 'hello world', sensitive: false },
      password: { value: 'Output-Secret-3141', sensitive: true },
      ids: { value: ['a', 'b'], sensitive: false },
    });
    assert.equal(registry.maskText('pw=Output-Secret-3141'), `pw=${MASK}`);
    assert.equal(registry.maskText('hello world'), 'hello world');
  });

  it('accepts no outputs and rejects what is not `output -json`', () => {
    assert.deepEqual(parseOutputs('{}', new SecretRegistry()), {});
    const isOutputError = (error: unknown): boolean => error instanceof ToolError && error.code === 'E_TERRAFORM_OUTPUT';
    assert.throws(() => parseOutputs('The state file has no outputs', new SecretRegistry()), isOutputError);
    assert.throws(() => parseOutputs('{"x":{"value":1}}', new SecretRegistry()), isOutputError);
  });
});
