import { fileURLToPath } from 'node:url';
import { reasonsMarkdown } from './controller/reasons.ts';

/** Tables of the docs generated from the code, each between `<!-- marker:start -->` and `<!-- marker:end -->`. */
export function generatedDocs(): Array<{ file: string; marker: string; text: string }> {
  return [{ file: fileURLToPath(new URL('../docs/reconcile.md', import.meta.url)), marker: 'reasons', text: reasonsMarkdown() }];
}
