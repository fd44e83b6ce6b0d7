import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutputSource } from '../definitions/references.ts';
import type { UnitDefinition } from '../definitions/types.ts';
import { secrets } from '../secrets.ts';
import { resolveInputs, type OutputsReader } from './inputs.ts';
import { sha256 } from './plan-id.ts';

const HOST_ADDRESS = '192.0.2.77-sensitive-host';

const OUTPUTS: Record<string, Record<string, OutputSource>> = {
  net: { id: { value: 'vpc-1', sensitive: false } },
  machines: { hosts: { value: [{ name: 'web-1', address: HOST_ADDRESS }], sensitive: true } },
};
const outputsOf: OutputsReader = async (unit) => OUTPUTS[unit];

function unit(spec: unknown, vars: Record<string, unknown> = {}): UnitDefinition {
  return {
    name: 'web',
    type: 'inventory',
    kind: 'ansible',
    path: 'inventories/web',
    file: 'inventories/web/inventory.yaml',
    approval: 'auto',
    applyAfterMs: null,
    dependsOn: ['net', 'machines'],
    vars,
    secretVars: {},
    spec,
    manifestHash: 'm1',
  };
}

test('every reference in the provider\'s spec is resolved for the run; the definition is left as it is', async () => {
  const spec = { hostsFrom: { fromOutput: 'machines.hosts' }, playbook: 'inventories/web/site.yml', nested: [{ fromOutput: 'net.id' }] };
  const definition = unit(spec, { domain: { fromOutput: 'net.id' } });
  const inputs = await resolveInputs(definition, 'r1', outputsOf);
  assert.deepEqual(inputs.resolvedSpec, { hostsFrom: [{ name: 'web-1', address: HOST_ADDRESS }], playbook: 'inventories/web/site.yml', nested: ['vpc-1'] });
  assert.deepEqual(inputs.vars, { domain: 'vpc-1' });
  assert.deepEqual(definition.spec, spec);
  // What a sensitive output gave is masked from now on; the rest of the spec is not.
  assert.equal(secrets.maskText(`${HOST_ADDRESS} inventories/web/site.yml`), '(sensitive) inventories/web/site.yml');
});

test('a spec without references is given as it is, and the inputs hash is the one plans have always had', async () => {
  const spec = { playbook: 'inventories/web/site.yml' };
  const inputs = await resolveInputs(unit(spec, { region: 'eu' }), 'r1', outputsOf);
  assert.equal(inputs.resolvedSpec, spec);
  // Plan ids derive from this hash: a unit without references keeps the ids it had.
  assert.equal(inputs.inputsHash, sha256(JSON.stringify({ manifest: 'm1', revision: 'r1', vars: { region: 'eu' }, hosts: null })));
  const referenced = await resolveInputs(unit({ ...spec, hostsFrom: { fromOutput: 'net.id' } }, { region: 'eu' }), 'r1', outputsOf);
  assert.notEqual(referenced.inputsHash, inputs.inputsHash, 'what a reference resolves to is part of the inputs');
});
