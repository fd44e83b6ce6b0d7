import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TestRepo } from '../../testkit/git-repo.ts';
import { formatProblem } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { ABSENT_MODE, GitSource } from '../source/git-source.ts';
import { type DefinitionsCache, loadDefinitions } from './load.ts';

/**
 * An incremental load (the previous reading, and what a commit changed) must
 * give exactly what a full load of the same tree gives, through units added,
 * removed, renamed and changed, and files beyond a unit's folder that its
 * manifest names (a shared playbook).
 */

const DEFAULTS = { approval: 'manual', applyAfterMs: null } as const;
const repo = new TestRepo();
const state = mkdtempSync(join(tmpdir(), 'plumbline-incremental-'));
after(() => {
  repo.dispose();
  rmSync(state, { recursive: true, force: true });
});
const source = new GitSource({ url: repo.url, branch: 'main', mirrorDir: join(state, 'mirror.git'), snapshotsDir: join(state, 'snapshots'), log: silentLogger });

const tf = (extra = '') => `kind: terraform\n${extra}`;
const stack = (name: string, manifest = tf()) => ({ [`stacks/${name}/stack.yaml`]: manifest, [`stacks/${name}/main.tf`]: 'module "net" {\n  source = "../../modules/net"\n}\n' });

async function compare(previous: { revision: string; cache: DefinitionsCache }, revision: string): Promise<{ reread: number; cache: DefinitionsCache; units: string[]; problems: string[] }> {
  await source.fetch();
  const changes = await source.changes(previous.revision, revision);
  const changed = changes.map((c) => c.path);
  // As the controller gives them: the paths changed in place.
  const modified = new Set(changes.filter((c) => c.oldMode !== ABSENT_MODE && c.newMode !== ABSENT_MODE).map((c) => c.path));
  const snapshot = await source.snapshot(revision, { base: previous.revision });
  const full = await loadDefinitions(snapshot, DEFAULTS);
  const incremental = await loadDefinitions(snapshot, DEFAULTS, undefined, undefined, { previous: previous.cache, changed, modified });
  assert.deepEqual(incremental.units, full.units);
  assert.deepEqual(incremental.problems, full.problems);
  assert.deepEqual(incremental.folders, full.folders);
  return { reread: incremental.reread, cache: incremental.cache, units: full.units.map((u) => u.name), problems: full.problems.map(formatProblem) };
}

test('an incremental load equals a full load, commit after commit, and reads only what changed', async () => {
  const first = repo.commit({
    ...stack('a'),
    ...stack('b'),
    ...stack('c'),
    ...stack('d', tf('dependsOn: [a]\nvars:\n  x:\n    fromOutput: a.id\n')),
    'modules/net/main.tf': 'variable "x" {\n  default = 1\n}\n',
    'inventories/web/inventory.yaml': 'playbook: ../../playbooks/site.yml\n',
    'inventories/web/hosts.yml': 'all:\n  hosts: {}\n',
    'playbooks/site.yml': '- hosts: all\n  tasks: []\n',
  });
  await source.fetch();
  const initial = await loadDefinitions(await source.snapshot(first), DEFAULTS);
  assert.equal(initial.reread, 5);
  let previous = { revision: first, cache: initial.cache };

  // Added, removed, renamed and changed units; a shared module changes (no manifest reads it).
  const second = repo.commit({
    ...stack('e'),
    'stacks/b/stack.yaml': null,
    'stacks/b/main.tf': null,
    'stacks/c/stack.yaml': null,
    'stacks/c/main.tf': null,
    ...stack('c-renamed'),
    'stacks/a/stack.yaml': tf('approval: auto\n'),
    'modules/net/main.tf': 'variable "x" {\n  default = 2\n}\n',
  });
  let step = await compare(previous, second);
  assert.deepEqual(step.units, ['a', 'c-renamed', 'd', 'e', 'web']);
  assert.equal(step.reread, 3, 'a, c-renamed and e are read; d and web are reused');
  previous = { revision: second, cache: step.cache };

  // The shared playbook goes: the inventory that names it is read again and is now invalid.
  const third = repo.commit({ 'playbooks/site.yml': null });
  step = await compare(previous, third);
  assert.equal(step.reread, 1);
  assert.match(step.problems.join('\n'), /inventories\/web\/inventory\.yaml.*does not exist/);
  previous = { revision: third, cache: step.cache };

  // It comes back; the unit d depends on becomes invalid (its folder loses its .tf): d's reference is checked again.
  const fourth = repo.commit({ 'playbooks/site.yml': '- hosts: all\n  tasks: []\n', 'stacks/a/main.tf': null });
  step = await compare(previous, fourth);
  assert.equal(step.reread, 2, 'web and a are read again');
  assert.deepEqual(step.units, ['c-renamed', 'd', 'e', 'web']);
  previous = { revision: fourth, cache: step.cache };

  // A unit that names a missing dependency: found again across manifests, reused ones included.
  const fifth = repo.commit({ 'stacks/a/stack.yaml': null });
  step = await compare(previous, fifth);
  assert.equal(step.reread, 0);
  assert.match(step.problems.join('\n'), /stacks\/d\/stack\.yaml:\d+:\d+: .*a/);
  previous = { revision: fifth, cache: step.cache };

  // A misnamed manifest, and a folder named like a manifest inside a folder that is not a unit yet.
  const sixth = repo.commit({ 'stacks/f/stack.yml': tf(), 'stacks/f/main.tf': '', 'stacks/g/stack.yaml/README': 'not a manifest', 'stacks/g/main.tf': '' });
  step = await compare(previous, sixth);
  assert.match(step.problems.join('\n'), /stacks\/f\/stack\.yml/);
  previous = { revision: sixth, cache: step.cache };

  // A change inside a unit's folder that no manifest names: nothing is read again, the same units are found.
  const seventh = repo.commit({ 'stacks/e/main.tf': 'resource "terraform_data" "x" {}\n', 'stacks/e/notes/README.md': 'notes' });
  step = await compare(previous, seventh);
  assert.equal(step.reread, 2, 'e is read again (its folder changed), and g, whose manifest has a problem of its own, is read every time');
  previous = { revision: seventh, cache: step.cache };

  // A manifest changed in place (where manifests are is known already), then one replaced by a folder of that name.
  const eighth = repo.commit({ 'stacks/e/stack.yaml': tf('approval: auto\n') });
  step = await compare(previous, eighth);
  assert.equal(step.reread, 2);
  previous = { revision: eighth, cache: step.cache };
  const ninth = repo.commit({ 'stacks/e/stack.yaml': null, 'stacks/e/stack.yaml/inner': 'x' });
  step = await compare(previous, ninth);
  assert.ok(!step.units.includes('e'));
});

test('other defaults read every manifest again', async () => {
  const head = repo.commit({ 'stacks/g': null, 'stacks/e': null });
  await source.fetch();
  const snapshot = await source.snapshot(head);
  const first = await loadDefinitions(snapshot, DEFAULTS);
  const same = await loadDefinitions(snapshot, DEFAULTS, undefined, undefined, { previous: first.cache, changed: [] });
  assert.equal(same.reread, 0);
  const other = await loadDefinitions(snapshot, { ...DEFAULTS, approval: 'auto' }, undefined, undefined, { previous: first.cache, changed: [] });
  assert.equal(other.reread, first.reread);
  assert.ok(other.units.every((u) => u.approval === 'auto'));
});
