import type { ProviderModule } from '../../engine/provider-kit.ts';
import { TERRAFORM_ERROR_CODES } from './error-codes.ts';
import { type TerraformSpec, terraformManifest } from './manifest.ts';
import { type TerraformSettings, terraformSettingsPart } from './settings.ts';

/** Terraform stacks: `kind: terraform` in a `stack.yaml`, and the `terraform:` settings. */
export const terraformProvider: ProviderModule<TerraformSpec, TerraformSettings> = {
  kind: 'terraform',
  manifest: terraformManifest,
  settings: terraformSettingsPart,
  errorCodes: TERRAFORM_ERROR_CODES,
  create: async (context) => (await import('./index.ts')).createTerraformProvider(context),
};
