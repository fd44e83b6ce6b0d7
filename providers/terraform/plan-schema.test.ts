import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ToolError } from '../../engine/provider-kit.ts';
import { parsePlanJson } from './plan-schema.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('parsePlanJson', () => {
  for (const name of ['data-plan.json', 'data-noop-plan.json', 'sensitive-plan.json', 'aws-plan.json']) {
    it(`accepts the recorded ${name}`, () => {
      const plan = parsePlanJson(fixture(name));
      assert.match(plan.format_version, /^1\./);
      assert.ok((plan.resource_changes ?? []).length > 0);
    });
  }

  it('keeps fields the schema does not name', () => {
    const plan = parsePlanJson(fixture('data-plan.json'));
    assert.ok('relevant_attributes' in plan);
  });

  it('rejects an unknown major format_version with E_PLAN_FORMAT', () => {
    const doc = JSON.parse(fixture('data-plan.json')) as Record<string, unknown>;
    for (const version of ['2.0', '0.1', 'x']) {
      doc.format_version = version;
      assert.throws(
        () => parsePlanJson(JSON.stringify(doc)),
        (error: unknown) => error instanceof ToolError && error.code === 'E_PLAN_FORMAT' && error.retry === 'stalled',
      );
    }
  });

  it('accepts a newer minor version', () => {
    const doc = JSON.parse(fixture('data-plan.json')) as Record<string, unknown>;
    doc.format_version = '1.9';
    assert.equal(parsePlanJson(JSON.stringify(doc)).format_version, '1.9');
  });

  it('rejects text that is not JSON, a missing format_version and a wrong shape', () => {
    const isFormatError = (error: unknown): boolean => error instanceof ToolError && error.code === 'E_PLAN_FORMAT';
    assert.throws(() => parsePlanJson('Error: nope'), isFormatError);
    assert.throws(() => parsePlanJson('{}'), isFormatError);
    assert.throws(
      () => parsePlanJson(JSON.stringify({ format_version: '1.2', resource_changes: [{ address: 'x', change: { actions: ['explode'] } }] })),
      isFormatError,
    );
  });
});
