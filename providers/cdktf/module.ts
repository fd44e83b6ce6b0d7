import type { ProviderModule } from '../../engine/provider-kit.ts';
import { CDKTF_ERROR_CODES } from './error-codes.ts';
import { type CdktfSpec, cdktfManifest } from './manifest.ts';

/** CDKTF stacks: `kind: cdktf` in a `stack.yaml`; they run with the `terraform:` settings. */
export const cdktfProvider: ProviderModule<CdktfSpec> = {
  kind: 'cdktf',
  manifest: cdktfManifest,
  errorCodes: CDKTF_ERROR_CODES,
  create: async (context) => (await import('./index.ts')).createCdktfProvider(context),
};
