// Writes the tables docs take from the code (`npm run docs`): the unit and
// source reasons in docs/reconcile.md, the error codes in docs/errors.md. A
// test checks they are up to date.
import { readFileSync, writeFileSync } from 'node:fs';
import { generatedDocs } from '../engine/docs-tables.ts';

for (const { file, marker, text } of generatedDocs()) {
  const doc = readFileSync(file, 'utf8');
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const before = doc.slice(0, doc.indexOf(start) + start.length);
  const after = doc.slice(doc.indexOf(end));
  writeFileSync(file, `${before}\n${text}\n${after}`);
}
