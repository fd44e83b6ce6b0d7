import { fileURLToPath } from 'node:url';
import { reasonsMarkdown } from './controller/reasons.ts';
import { errorCodesMarkdown } from './error-codes.ts';
import { builtinProviders } from './providers.ts';

const doc = (name: string): string => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));

/** Tables of the docs generated from the code, each between `<!-- marker:start -->` and `<!-- marker:end -->`. */
export function generatedDocs(): Array<{ file: string; marker: string; text: string }> {
  return [
    { file: doc('reconcile.md'), marker: 'reasons', text: reasonsMarkdown() },
    { file: doc('errors.md'), marker: 'errors', text: errorCodesMarkdown(builtinProviders) },
  ];
}
