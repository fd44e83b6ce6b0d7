import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MASK, SecretRegistry } from '../../engine/provider-kit.ts';
import { maskPlan, maskSensitive } from './mask.ts';
import { parsePlanJson, type PlanJson } from './plan-schema.ts';
import { everythingShown } from '../../testkit/terraform-fixtures.ts';

const load = (name: string): PlanJson => parsePlanJson(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));

/** Values the fixtures were recorded with (see test/fixtures/terraform/record.sh). */
const SENSITIVE_SECRETS = ['OldSecret-Pw-4471', 'NewSecret-Pw-9823', 'tok-default-Zq8vK2mW', 'tok-rotated-Hh5nB7cX'];
const AWS_SECRETS = ['AwsFixture-Pw-6612', 'fixture-secret-key-Xy7Qp3Lm9'];

describe('maskPlan', () => {
  it('the recorded plan does contain the secrets in clear', () => {
    const raw = JSON.stringify(load('sensitive-plan.json'));
    for (const secret of SENSITIVE_SECRETS) assert.ok(raw.includes(secret), secret);
  });

  it('leaves no sensitive variable, attribute or output value anywhere', () => {
    const registry = new SecretRegistry(); // nothing known up front: the plan alone must say it
    const text = everythingShown(load('sensitive-plan.json'), registry);
    for (const secret of SENSITIVE_SECRETS) assert.ok(!text.includes(secret), `${secret} leaked`);
    assert.ok(text.includes('eu-west-1'), 'non-sensitive values stay readable');
    assert.ok(text.includes('admin'));
  });

  it('registers what it found, so logs and other documents are masked too', () => {
    const registry = new SecretRegistry();
    maskPlan(load('sensitive-plan.json'), registry);
    for (const secret of SENSITIVE_SECRETS) assert.equal(registry.maskText(`x ${secret} y`), `x ${MASK} y`);
  });

  it('masks each place structurally', () => {
    const masked = maskPlan(load('sensitive-plan.json'), new SecretRegistry());
    assert.equal(masked.variables!.db_password!.value, MASK);
    assert.equal(masked.variables!.region!.value, 'eu-west-1');
    assert.equal(masked.configuration!.root_module!.variables!.api_token!.default, MASK);
    assert.equal(masked.planned_values!.outputs!.connection!.value, MASK);
    assert.equal(masked.prior_state!.values!.outputs!.connection!.value, MASK);
    assert.equal(masked.output_changes!.connection!.before, MASK);
    assert.equal(masked.output_changes!.connection!.after, MASK);
    const db = masked.resource_changes!.find((r) => r.address === 'terraform_data.db')!;
    assert.deepEqual(db.change.after, { id: (db.change.after as { id: string }).id, input: { password: MASK, region: 'eu-west-1', user: 'admin' }, triggers_replace: null });
  });

  it('does not change the raw plan it was given', () => {
    const plan = load('sensitive-plan.json');
    maskPlan(plan, new SecretRegistry());
    assert.equal(plan.variables!.db_password!.value, 'NewSecret-Pw-9823');
  });

  it('masks the AWS plan: sensitive attribute, its variable and provider credentials', () => {
    const registry = new SecretRegistry();
    const text = everythingShown(load('aws-plan.json'), registry);
    for (const secret of AWS_SECRETS) assert.ok(!text.includes(secret), `${secret} leaked`);
    assert.ok(text.includes('10.0.0.0/16'));
    assert.ok(text.includes('eu-west-1a'), 'the provider region is masked in place, not registered as a secret');
  });
});

describe('maskSensitive', () => {
  it('follows nested marks and reports what it hides', () => {
    const found: unknown[] = [];
    const value = { a: 'x', list: ['p', 'q'], deep: { k: 'v', s: 'w' }, gone: null };
    const marks = { list: [false, true], deep: { s: true }, gone: true };
    assert.deepEqual(maskSensitive(value, marks, (v) => found.push(v)), {
      a: 'x',
      list: ['p', MASK],
      deep: { k: 'v', s: MASK },
      gone: null,
    });
    assert.deepEqual(found, ['q', 'w']);
    assert.equal(maskSensitive({ a: 1 }, true), MASK);
    assert.deepEqual(maskSensitive({ a: 1 }, false), { a: 1 });
  });
});
