import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASK, SecretRegistry } from '../../engine/provider-kit.ts';
import { markAt, markKnownSecrets } from './secret-paths.ts';
import { everythingShown, planFixture } from '../../testkit/terraform-fixtures.ts';

/** The values fixtures/src/rotated was applied with, then planned with (see testkit/terraform-fixtures.ts). */
const OLD = ['Rotated-Old-Pw-31ce', 'Rotated-Old-Tok-5a0d'];
const NEW = ['Rotated-New-Pw-64bf', 'Rotated-New-Tok-97e2'];

/**
 * What a daemon started after the rotation knows: the new values of the
 * stack's secret variables, nothing of the old ones.
 */
function daemonRegistry(): SecretRegistry {
  const registry = new SecretRegistry();
  registry.add(NEW);
  return registry;
}

describe('markKnownSecrets', () => {
  it('the recorded plan holds the old and new values in clear', () => {
    const raw = JSON.stringify(planFixture('rotated-plan.json'));
    for (const secret of [...OLD, ...NEW]) assert.ok(raw.includes(secret), secret);
  });

  it('shows neither the old nor the new value of a rotated secret, marked by Terraform or not', () => {
    const registry = daemonRegistry();
    const text = everythingShown(markKnownSecrets(planFixture('rotated-plan.json'), registry), registry);
    for (const secret of [...OLD, ...NEW]) assert.ok(!text.includes(secret), `${secret} leaked`);
    assert.ok(text.includes('eu-west-1'), 'values beside a secret stay readable');
    assert.ok(!text.includes('db.internal'), 'a string holding a secret is masked whole');
  });

  it('registers the old values, so the daemon masks them in logs too', () => {
    const registry = daemonRegistry();
    markKnownSecrets(planFixture('rotated-plan.json'), registry);
    for (const secret of OLD) assert.equal(registry.maskText(`x ${secret} y`), `x ${MASK} y`);
  });

  it('marks the path of a secret Terraform did not mark, on both sides', () => {
    const plan = markKnownSecrets(planFixture('rotated-plan.json'), daemonRegistry());
    const api = plan.resource_changes!.find((r) => r.address === 'terraform_data.api')!.change;
    assert.deepEqual(api.after_sensitive, { input: { header: true, tokens: [true] }, output: {} });
    assert.deepEqual(api.before_sensitive, { input: { header: true, tokens: [true] }, output: { header: true, tokens: [true] } });
    assert.deepEqual(plan.output_changes!.api_header!.before_sensitive, true);
  });

  it('returns the plan it was given when no known secret is in it', () => {
    const plan = planFixture('data-plan.json');
    const marked = markKnownSecrets(plan, new SecretRegistry());
    assert.deepEqual(marked, plan);
  });
});

describe('markAt', () => {
  it('marks a path inside the marks Terraform gave', () => {
    assert.deepEqual(markAt({ a: { b: true } }, { a: { b: 'x', c: 'y' } }, ['a', 'c']), { a: { b: true, c: true } });
    assert.deepEqual(markAt([], ['p', 'q'], [1]), [false, true]);
  });

  it('marks a plain value whole where the other side had an object', () => {
    assert.deepEqual(markAt({}, { input: 'user=old' }, ['input', 'password']), { input: true });
  });

  it('marks nothing where this side holds nothing', () => {
    assert.equal(markAt(false, null, ['input']), false);
    assert.deepEqual(markAt({}, { other: 1 }, ['input', 'password']), {});
  });
});
