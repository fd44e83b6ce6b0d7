import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../log.ts';
import type { Provider } from '../provider.ts';
import { readsOf, touchedPath } from './reads.ts';
import type { UnitDefinition } from './types.ts';

const unit = (watch?: string[]): UnitDefinition => ({
  name: 'prod/vpc',
  type: 'stack',
  kind: 'terraform',
  path: 'stacks/prod/vpc',
  file: 'stacks/prod/vpc/stack.yaml',
  approval: 'auto',
  applyAfterMs: null,
  dependsOn: [],
  vars: {},
  secretVars: {},
  spec: {},
  manifestHash: '',
  ...(watch ? { watch } : {}),
});

const provider = (entries: Array<{ path: string; why: string }>, notes: string[] = []): Provider =>
  ({ plan: async () => { throw new Error('unused'); }, apply: async () => { throw new Error('unused'); }, reads: async () => ({ entries, notes }) }) as Provider;

test('the unit folder always counts, then what the provider finds, each path once', async () => {
  const reads = await readsOf(
    unit(),
    'abc',
    '/repo',
    provider([
      { path: 'modules/vpc', why: 'module "vpc"' },
      { path: 'modules/vpc/subnets', why: 'module "subnets" in modules/vpc' },
      { path: 'stacks/prod/vpc/inner', why: 'inside the folder already' },
    ]),
    silentLogger,
  );
  assert.deepEqual(reads.entries.map((e) => e.path), ['stacks/prod/vpc', 'modules/vpc']);
});

test('a commit touches a unit through its folder, a module, or a watch glob, and nothing else', () => {
  const reads = { entries: [{ path: 'stacks/prod/vpc', why: '' }, { path: 'modules/vpc', why: '' }], watch: ['shared/**/*.json'] };
  assert.equal(touchedPath(reads, ['stacks/prod/vpc/main.tf']), 'stacks/prod/vpc/main.tf');
  assert.equal(touchedPath(reads, ['README.md', 'modules/vpc/variables.tf']), 'modules/vpc/variables.tf');
  assert.equal(touchedPath(reads, ['shared/net/cidrs.json']), 'shared/net/cidrs.json');
  assert.equal(touchedPath(reads, ['modules/vpc-peering/main.tf', 'stacks/prod/vpc-old/main.tf', 'shared/x.yaml']), undefined);
});

test('a provider that cannot work out its reads leaves the folder counting, with a note', async () => {
  const failing = { ...provider([]), reads: async () => { throw new Error('unparsable'); } } as Provider;
  const reads = await readsOf(unit(['x/**']), 'abc', '/repo', failing, silentLogger);
  assert.deepEqual(reads.entries.map((e) => e.path), ['stacks/prod/vpc']);
  assert.deepEqual(reads.watch, ['x/**']);
  assert.match(reads.notes[0]!, /unparsable/);
});
