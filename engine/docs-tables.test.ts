import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { generatedDocs } from './docs-tables.ts';

test('the tables the docs take from the code are up to date (npm run docs)', () => {
  for (const { file, marker, text } of generatedDocs()) {
    const doc = readFileSync(file, 'utf8');
    assert.ok(doc.includes(`<!-- ${marker}:start -->\n${text}\n<!-- ${marker}:end -->`), `${file}: run npm run docs`);
  }
});
