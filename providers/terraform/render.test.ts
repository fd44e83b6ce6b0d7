import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SecretRegistry } from '../../engine/secrets.ts';
import { maskPlan } from './mask.ts';
import { normalizePlan } from './normalize.ts';
import { parsePlanJson } from './plan-schema.ts';
import { renderPlan, summaryLine } from './render.ts';

function rendered(name: string): string {
  const registry = new SecretRegistry();
  const plan = parsePlanJson(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
  maskPlan(plan, registry);
  return renderPlan(normalizePlan(plan, registry), registry);
}

describe('renderPlan', () => {
  it('renders creates, updates, replaces and deletes like terraform', () => {
    const text = rendered('data-plan.json');
    assert.match(text, /^ {2}# terraform_data\.create will be created$/m);
    assert.match(text, /^ {2}\+ resource "terraform_data" "create" \{$/m);
    assert.match(text, /^ {6}\+ input {2}= "hello"$/m);
    assert.match(text, /^ {6}\+ id {5}= \(known after apply\)$/m);
    assert.match(text, /^ {2}# terraform_data\.update will be updated in-place$/m);
    assert.match(text, /^ {6}~ input\.nested\.size = 1 -> 2$/m);
    assert.match(text, /^ {6}~ input\.ports {7}= \[80,443\] -> \[80,8443\]$/m);
    assert.match(text, /^ {2}# terraform_data\.replace must be replaced$/m);
    assert.match(text, /^-\/\+ resource "terraform_data" "replace" \{$/m);
    assert.match(text, /^\+\/- resource "terraform_data" "replace_cbd" \{$/m);
    assert.match(text, /~ triggers_replace = "1" -> "2" # forces replacement$/m);
    assert.match(text, /^ {2}# terraform_data\.delete will be destroyed$/m);
    assert.match(text, /^ {6}- input {2}= "bye" -> null$/m);
  });

  it('ends with the summary line and the output changes', () => {
    const text = rendered('data-plan.json');
    assert.match(text, /^Plan: 1 to add, 1 to change, 1 to destroy, 2 to replace\.$/m);
    assert.match(text, /^Changes to Outputs:\n {2}\+ added {3}= \(known after apply\)\n {2}~ changed = "a" -> "b"\n {2}- removed = "old" -> null$/m);
  });

  it('shows sensitive values as (sensitive value)', () => {
    const text = rendered('sensitive-plan.json');
    assert.match(text, /~ input\.password = \(sensitive value\) -> \(sensitive value\)/);
    assert.match(text, /~ connection = \(sensitive value\) -> \(sensitive value\)/);
    assert.ok(!text.includes('Secret-Pw'));
  });

  it('renders the AWS plan', () => {
    const text = rendered('aws-plan.json');
    assert.match(text, /^ {2}# aws_vpc\.main will be created$/m);
    assert.match(text, /\+ cidr_block += "10\.0\.0\.0\/16"$/m);
    assert.match(text, /\+ user_data += \(sensitive value\)$/m);
    assert.match(text, /^Plan: 4 to add, 0 to change, 0 to destroy, 0 to replace\.$/m);
  });

  it('says when there is nothing to do', () => {
    const text = rendered('data-noop-plan.json');
    assert.match(text, /^No changes\./);
    assert.match(text, /Plan: 0 to add, 0 to change, 0 to destroy, 0 to replace\./);
  });

  it('formats the summary line', () => {
    assert.equal(summaryLine({ add: 1, change: 0, destroy: 0, replace: 0 }), 'Plan: 1 to add, 0 to change, 0 to destroy, 0 to replace.');
  });
});
