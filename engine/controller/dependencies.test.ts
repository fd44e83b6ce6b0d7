import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UnitDefinition } from '../definitions/types.ts';
import type { UnitStatus } from '../model.ts';
import { describeReadiness, downstreamOf, readiness } from './dependencies.ts';

const unit = (name: string, dependsOn: string[] = []) => ({ name, dependsOn }) as UnitDefinition;
const status = (phase: string, reason = 'x') => ({ phase, reason }) as UnitStatus;

test('a unit is ready only when every dependency is settled', () => {
  const phases: Record<string, UnitStatus> = { net: status('InSync'), vms: status('Applying'), db: status('Failed', 'PlanFailed') };
  const statusOf = (n: string) => phases[n];
  const defined = (n: string) => n !== 'gone';
  assert.equal(readiness(unit('app', ['net']), statusOf, defined).ready, true);
  const waiting = readiness(unit('app', ['net', 'vms']), statusOf, defined);
  assert.equal(waiting.ready, false);
  assert.equal(describeReadiness(waiting), 'waits for vms (Applying)');
  const blocked = readiness(unit('app', ['vms', 'db', 'gone']), statusOf, defined);
  assert.deepEqual(blocked.blockedBy.map((b) => b.unit), ['db', 'gone']);
  assert.match(describeReadiness(blocked), /^blocked by db \(Failed: PlanFailed\), gone/);
});

test('downstream units are found transitively, nearest first', () => {
  const units = [unit('net'), unit('vms', ['net']), unit('web', ['vms']), unit('dns', ['net']), unit('other')];
  assert.deepEqual(downstreamOf(['net'], units), ['dns', 'vms', 'web']);
  assert.deepEqual(downstreamOf(['web'], units), []);
});
