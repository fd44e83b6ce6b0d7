import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MASK, SecretRegistry, ToolError } from '../../engine/provider-kit.ts';
import { parseUiStream } from './diagnostics.ts';
import { outputsFromApplyStream, parseOutputs, plannedOutputs } from './outputs.ts';
import { parsePlanJson } from './plan-schema.ts';

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

describe('outputsFromApplyStream', () => {
  // Recorded from terraform 1.11 (`apply -json` of a plan with a plain, an object and a sensitive output).
  const recorded = parseUiStream(readFileSync(new URL('./fixtures/apply-stream.jsonl', import.meta.url), 'utf8'));

  it('reads the outputs when the stream holds every value', () => {
    const noSensitive = recorded.map((m) =>
      m.type === 'outputs' ? { ...m, outputs: Object.fromEntries(Object.entries(m.outputs as Record<string, unknown>).filter(([k]) => k !== 'secret')) } : m,
    );
    const outputs = outputsFromApplyStream(noSensitive, new SecretRegistry());
    assert.equal(outputs?.plain?.value, 'x');
    assert.equal(outputs?.plain?.sensitive, false);
    assert.equal((outputs?.obj?.value as { a: number }).a, 1);
  });

  it('gives up (so output -json is asked) when a sensitive value is left out, or there is no outputs message', () => {
    assert.equal(outputsFromApplyStream(recorded, new SecretRegistry()), undefined);
    assert.equal(outputsFromApplyStream(recorded.filter((m) => m.type !== 'outputs'), new SecretRegistry()), undefined);
  });

  it('reads an apply with no outputs as no outputs', () => {
    assert.deepEqual(outputsFromApplyStream([{ type: 'outputs', outputs: {} }], new SecretRegistry()), {});
  });
});

describe('plannedOutputs', () => {
  const fixture = (name: string) => parsePlanJson(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

  it('reads the outputs of a plan, values included, and registers the sensitive ones', () => {
    const registry = new SecretRegistry();
    const outputs = plannedOutputs(fixture('sensitive-plan.json'), registry);
    assert.deepEqual(outputs.region, { value: 'eu-west-1', sensitive: false });
    assert.equal(outputs.connection?.sensitive, true);
    assert.equal(outputs.connection?.value, 'postgres://admin:NewSecret-Pw-9823@db.internal:5432/app');
    assert.equal(registry.maskText('dsn postgres://admin:NewSecret-Pw-9823@db.internal:5432/app'), `dsn ${MASK}`);
  });

  it('reads a plan with no changes as the outputs in the state', () => {
    const outputs = plannedOutputs(fixture('data-noop-plan.json'), new SecretRegistry());
    assert.equal(outputs.unchanged?.value, 'stable');
  });
});
