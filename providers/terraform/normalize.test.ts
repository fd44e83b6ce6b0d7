import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SecretRegistry } from '../../engine/provider-kit.ts';
import { formatPath, normalizePlan, resourceAction, type NormalizedPlan } from './normalize.ts';
import { parsePlanJson, type PlanJson } from './plan-schema.ts';

const load = (name: string): PlanJson => parsePlanJson(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const normalize = (plan: PlanJson): NormalizedPlan => normalizePlan(plan, new SecretRegistry());
const byAddress = (doc: NormalizedPlan, address: string) => {
  const found = doc.resources.find((r) => r.address === address);
  assert.ok(found, `${address} is in the normalized plan`);
  return found;
};

describe('resourceAction', () => {
  it('maps terraform action lists', () => {
    assert.equal(resourceAction(['create']), 'create');
    assert.equal(resourceAction(['update']), 'update');
    assert.equal(resourceAction(['delete']), 'delete');
    assert.equal(resourceAction(['delete', 'create']), 'replace');
    assert.equal(resourceAction(['create', 'delete']), 'replace');
    assert.equal(resourceAction(['no-op']), 'none');
    assert.equal(resourceAction(['read']), 'read');
    assert.equal(resourceAction(['forget']), 'forget');
  });
});

describe('normalizePlan (terraform_data fixture)', () => {
  const doc = normalize(load('data-plan.json'));

  it('keeps only real changes, one per address', () => {
    assert.deepEqual(
      doc.resources.map((r) => [r.address, r.action]),
      [
        ['terraform_data.create', 'create'],
        ['terraform_data.delete', 'delete'],
        ['terraform_data.replace', 'replace'],
        ['terraform_data.replace_cbd', 'replace'],
        ['terraform_data.update', 'update'],
      ],
    );
  });

  it('counts the summary and flags destruction', () => {
    assert.deepEqual(doc.summary, { add: 1, change: 1, destroy: 1, replace: 2 });
    assert.equal(doc.hasChanges, true);
    assert.equal(doc.destructive, true);
  });

  it('keeps both replace orders', () => {
    assert.deepEqual(byAddress(doc, 'terraform_data.replace').actions, ['delete', 'create']);
    assert.deepEqual(byAddress(doc, 'terraform_data.replace_cbd').actions, ['create', 'delete']);
  });

  it('lists changed attribute paths with before, after and unknown', () => {
    const update = byAddress(doc, 'terraform_data.update');
    assert.deepEqual(update.attributes, [
      { path: 'input.nested.size', before: 1, after: 2 },
      { path: 'input.ports[1]', before: 443, after: 8443 },
      // The old output goes leaf by leaf; what replaces it is not known yet.
      { path: 'output.name', before: 'web' },
      { path: 'output.nested.size', before: 1 },
      { path: 'output.nested.zone', before: 'a' },
      { path: 'output.ports[0]', before: 80 },
      { path: 'output.ports[1]', before: 443 },
      { path: 'output', unknown: true },
    ]);
  });

  it('marks unknown values of a new object and the attribute forcing a replacement', () => {
    const create = byAddress(doc, 'terraform_data.create');
    assert.deepEqual(create.attributes, [
      { path: 'id', unknown: true },
      { path: 'input', after: 'hello' },
      { path: 'output', unknown: true },
    ]);
    const replace = byAddress(doc, 'terraform_data.replace');
    const trigger = replace.attributes.find((a) => a.path === 'triggers_replace');
    assert.deepEqual(trigger, { path: 'triggers_replace', before: '1', after: '2', forcesReplacement: true });
    assert.equal(replace.reason, 'replace_because_cannot_update');
  });

  it('shows what a deleted object had', () => {
    const deleted = byAddress(doc, 'terraform_data.delete');
    assert.deepEqual(
      deleted.attributes.map((a) => [a.path, a.before, 'after' in a]),
      [
        ['id', deleted.attributes[0]!.before, false],
        ['input', 'bye', false],
        ['output', 'bye', false],
      ],
    );
  });

  it('normalizes output changes (no-op left out)', () => {
    assert.deepEqual(doc.outputs, [
      { name: 'added', action: 'create', unknown: true, attributes: [{ path: 'added', unknown: true }] },
      { name: 'changed', action: 'update', attributes: [{ path: 'changed', before: 'a', after: 'b' }] },
      { name: 'removed', action: 'delete', attributes: [{ path: 'removed', before: 'old' }] },
    ]);
  });
});

describe('normalizePlan (other plans)', () => {
  it('finds nothing to do in a no-op plan', () => {
    const doc = normalize(load('data-noop-plan.json'));
    assert.deepEqual(doc.resources, []);
    assert.deepEqual(doc.outputs, []);
    assert.equal(doc.hasChanges, false);
    assert.equal(doc.destructive, false);
  });

  it('counts an output-only change as a change, not as destruction', () => {
    const plan = load('data-noop-plan.json');
    const changed = plan.output_changes!.changed!;
    plan.output_changes!.changed = { ...changed, actions: ['update'], before: 'b', after: 'c' };
    const doc = normalize(plan);
    assert.equal(doc.hasChanges, true);
    assert.equal(doc.destructive, false);
    assert.deepEqual(doc.summary, { add: 0, change: 0, destroy: 0, replace: 0 });
  });

  it('normalizes the AWS plan', () => {
    const doc = normalize(load('aws-plan.json'));
    assert.deepEqual(doc.summary, { add: 4, change: 0, destroy: 0, replace: 0 });
    assert.equal(doc.destructive, false);
    const vpc = byAddress(doc, 'aws_vpc.main');
    assert.equal(vpc.provider, 'registry.terraform.io/hashicorp/aws');
    assert.deepEqual(vpc.attributes.find((a) => a.path === 'cidr_block'), { path: 'cidr_block', after: '10.0.0.0/16' });
    assert.deepEqual(vpc.attributes.find((a) => a.path === 'tags.Name'), { path: 'tags.Name', after: 'plumbline-main' });
    const sg = byAddress(doc, 'aws_security_group.web');
    assert.deepEqual(sg.attributes.find((a) => a.path === 'ingress[0].from_port'), { path: 'ingress[0].from_port', after: 443 });
    assert.deepEqual(sg.attributes.find((a) => a.path === 'ingress[0].cidr_blocks[0]'), { path: 'ingress[0].cidr_blocks[0]', after: '0.0.0.0/0' });
    // Empty lists are values: they do not vanish from a new object.
    assert.deepEqual(sg.attributes.find((a) => a.path === 'ingress[0].ipv6_cidr_blocks'), { path: 'ingress[0].ipv6_cidr_blocks', after: [] });
    const instance = byAddress(doc, 'aws_instance.web');
    assert.deepEqual(instance.attributes.find((a) => a.path === 'user_data'), { path: 'user_data', after: '(sensitive)', sensitive: true });
    assert.deepEqual(instance.attributes.find((a) => a.path === 'subnet_id'), { path: 'subnet_id', unknown: true });
    assert.deepEqual(
      doc.outputs.map((o) => [o.name, o.action, o.unknown]),
      [
        ['instance_private_ip', 'create', true],
        ['vpc_id', 'create', true],
      ],
    );
  });

  it('reports moves and imports that change no attribute', () => {
    const plan = load('data-noop-plan.json');
    const [first, second] = plan.resource_changes!;
    first!.previous_address = 'terraform_data.old_name';
    second!.change.importing = { id: 'abc' };
    const doc = normalize(plan);
    assert.equal(doc.hasChanges, true);
    assert.deepEqual(
      doc.resources.map((r) => [r.address, r.action, r.previousAddress, r.importing]),
      [
        [first!.address, 'none', 'terraform_data.old_name', undefined],
        [second!.address, 'none', undefined, true],
      ],
    );
  });
});

describe('formatPath', () => {
  it('writes attribute, index and odd map keys', () => {
    assert.equal(formatPath(['ingress', 0, 'cidr_blocks', 1]), 'ingress[0].cidr_blocks[1]');
    assert.equal(formatPath(['tags', 'Name']), 'tags.Name');
    assert.equal(formatPath(['tags', 'kubernetes.io/role']), 'tags["kubernetes.io/role"]');
  });
});

describe('normalizePlan (nested plan, see testkit/terraform-fixtures.ts)', () => {
  const doc = normalize(load('nested-plan.json'));

  it('keeps an output equal to [] or {} as that value, and unknown elements as flags', () => {
    assert.deepEqual(doc.outputs, [
      { name: 'empty_map', action: 'create', attributes: [{ path: 'empty_map', after: {} }] },
      {
        name: 'ids',
        action: 'create',
        unknown: true,
        attributes: [
          { path: 'ids[0]', unknown: true },
          { path: 'ids[1]', after: 'fixed' },
        ],
      },
      { name: 'was_list', action: 'update', attributes: [{ path: 'was_list[0]', before: 'x' }] },
    ]);
  });

  it('marks sensitive leaves inside nested values', () => {
    const app = byAddress(doc, 'terraform_data.app');
    const sensitive = app.attributes.filter((a) => a.sensitive).map((a) => a.path);
    assert.deepEqual(sensitive, ['input.keys[1]', 'input.secret.token']);
    for (const a of app.attributes.filter((x) => x.sensitive)) {
      assert.equal(a.before, '(sensitive)');
      assert.equal(a.after, '(sensitive)');
    }
  });
});
