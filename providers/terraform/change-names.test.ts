import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretRegistry } from '../../engine/provider-kit.ts';
import { changeNames } from './change-names.ts';
import { maskPlan } from './mask.ts';
import { normalizePlan } from './normalize.ts';
import { planFixture } from '../../testkit/terraform-fixtures.ts';

function names(fixture: string, registry = new SecretRegistry()): string[] {
  const plan = planFixture(fixture);
  maskPlan(plan, registry);
  return changeNames(normalizePlan(plan, registry), registry);
}

describe('changeNames', () => {
  it('names each object by its action, updates by the paths that change', () => {
    assert.deepEqual(names('data-plan.json'), [
      'terraform_data.create (create)',
      'terraform_data.delete (delete)',
      'terraform_data.replace (replace)',
      'terraform_data.replace_cbd (replace)',
      // `output` becomes unknown: named once, not with each leaf it had.
      'terraform_data.update: input.nested.size, input.ports[1], output',
      'output.added (create)',
      'output.changed (update)',
      'output.removed (delete)',
    ]);
  });

  it('names nested paths and never a value', () => {
    const [app] = names('nested-plan.json');
    assert.equal(
      app,
      'terraform_data.app: input.ingress[0].cidr_blocks[0], input.ingress[0].from_port, input.keys[1], input.names[1], input.ports[1], input.secret.token, input.tags.Name, input.tags.Team, output',
    );
  });

  it('counts what it does not list', () => {
    const plan = planFixture('nested-plan.json');
    const app = plan.resource_changes!.find((r) => r.address === 'terraform_data.app')!;
    const many = (shift: number) => Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`k${String(i).padStart(2, '0')}`, i + shift]));
    app.change.before = { id: 'x', input: many(0) };
    app.change.after = { id: 'x', input: many(1) };
    app.change.after_unknown = {};
    app.change.before_sensitive = {};
    app.change.after_sensitive = {};
    const [first] = changeNames(normalizePlan(plan, new SecretRegistry()), new SecretRegistry());
    assert.equal(first, 'terraform_data.app: input.k00, input.k01, input.k02, input.k03, input.k04, input.k05, input.k06, input.k07, input.k08, input.k09 and 4 more');
  });

  it('masks secrets that appear in a name', () => {
    const registry = new SecretRegistry();
    const plan = planFixture('data-plan.json');
    registry.add('terraform_data.create');
    const listed = changeNames(normalizePlan(plan, registry), registry);
    assert.ok(listed.includes('(sensitive) (create)'));
  });
});
