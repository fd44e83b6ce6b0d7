import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { managedAddresses } from './managed.ts';
import { planFixture } from '../../testkit/terraform-fixtures.ts';

describe('managedAddresses', () => {
  it('lists the planned resources of the root module and of child modules', () => {
    assert.deepEqual(managedAddresses(planFixture('aws-module-plan.json')), [
      'module.web_sg.aws_security_group.this[0]',
      'module.web_sg.aws_security_group.this[1]',
    ]);
    assert.deepEqual(managedAddresses(planFixture('data-plan.json')), [
      'terraform_data.create',
      'terraform_data.keep',
      'terraform_data.replace',
      'terraform_data.replace_cbd',
      'terraform_data.update',
    ]);
  });

  it('leaves data sources out', () => {
    const plan = planFixture('data-plan.json');
    const root = plan.planned_values!.root_module!;
    root.resources = [...root.resources!, { address: 'data.terraform_remote_state.net', mode: 'data', type: 'terraform_remote_state', name: 'net' }];
    assert.ok(!managedAddresses(plan).includes('data.terraform_remote_state.net'));
  });
});
