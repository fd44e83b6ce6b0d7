import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.ts';
import { formatProblem, ValidationError } from '../errors.ts';
import { loadDefinitions } from './load.ts';

/**
 * The corpus: each folder of test/fixtures/broken-definitions is a small
 * repository root, and its expected.txt holds the exact `file:line:col:
 * message` lines loading it must print. `ok-*` cases have no problem and an
 * expected-units.json with the normalized units (defaults filled in). Each
 * folder of test/fixtures/broken-configs holds a plumbline.yaml and its
 * expected.txt. To add a case, add a folder.
 */

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const definitionCases = join(fixtures, 'broken-definitions');
const configCases = join(fixtures, 'broken-configs');
const DEFAULTS = { approval: 'auto-unless-destroy', applyAfterMs: 600_000 } as const;

function expectedLines(caseDir: string): string[] {
  return readFileSync(join(caseDir, 'expected.txt'), 'utf8').split('\n').filter((l) => l !== '');
}

const definitionNames = readdirSync(definitionCases).sort();

test('the definitions corpus has at least 20 broken cases', () => {
  assert.ok(definitionNames.filter((n) => !n.startsWith('ok-')).length >= 20);
});

for (const name of definitionNames) {
  test(`definitions corpus: ${name}`, async () => {
    const caseDir = join(definitionCases, name);
    const { units, problems } = await loadDefinitions(caseDir, DEFAULTS);
    assert.deepEqual(problems.map(formatProblem), expectedLines(caseDir));
    if (name.startsWith('ok-')) {
      assert.equal(problems.length, 0);
      const expected: unknown = JSON.parse(readFileSync(join(caseDir, 'expected-units.json'), 'utf8'));
      assert.deepEqual(units.map(({ manifestHash: _, ...rest }) => rest), expected);
      for (const unit of units) {
        const sha = createHash('sha256').update(readFileSync(join(caseDir, unit.file))).digest('hex');
        assert.equal(unit.manifestHash, sha, unit.name);
      }
    } else {
      assert.ok(problems.length > 0, 'a broken case must report something');
    }
  });
}

for (const name of readdirSync(configCases).sort()) {
  test(`config corpus: ${name}`, async () => {
    const caseDir = join(configCases, name);
    const file = join(caseDir, 'plumbline.yaml');
    assert.ok(existsSync(file));
    const error = await loadConfig(file).then(
      () => assert.fail('expected a ValidationError'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ValidationError, String(error));
    const lines = error.problems.map((p) => formatProblem({ ...p, file: relative(caseDir, p.file) }));
    assert.deepEqual(lines, expectedLines(caseDir));
  });
}
