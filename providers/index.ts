import type { ProviderModule } from '../engine/provider-kit.ts';
import { ansibleProvider } from './ansible/module.ts';
import { cdktfProvider } from './cdktf/module.ts';
import { terraformProvider } from './terraform/module.ts';

/**
 * Every provider Plumbline ships. The order is the order people read them in:
 * `kind: must be one of terraform, cdktf`, and the config's sections
 * (`terraform:` before `ansible:`). Only the modules' light declarations load
 * here; each tool's code loads when its provider is built.
 */
export const builtinProviders: readonly ProviderModule[] = [terraformProvider, cdktfProvider, ansibleProvider];
