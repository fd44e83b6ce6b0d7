import type { ProviderFactory } from '../engine/provider.ts';
import { createAnsibleProvider } from './ansible/index.ts';
import { createCdktfProvider } from './cdktf/index.ts';
import { createTerraformProvider } from './terraform/index.ts';

/** Every provider Plumbline ships, by the definition kinds they handle. */
export const builtinProviderFactories: readonly ProviderFactory[] = [createTerraformProvider, createCdktfProvider, createAnsibleProvider];
