import type { ProviderModule } from '../../engine/provider-kit.ts';
import { ANSIBLE_ERROR_CODES } from './error-codes.ts';
import { ansibleManifest, type InventorySpec } from './manifest.ts';
import { type AnsibleSettings, ansibleSettingsPart } from './settings.ts';

/** Ansible inventories: an `inventory.yaml` (`kind: ansible`, the default there), and the `ansible:` settings. */
export const ansibleProvider: ProviderModule<InventorySpec, AnsibleSettings> = {
  kind: 'ansible',
  manifest: ansibleManifest,
  settings: ansibleSettingsPart,
  errorCodes: ANSIBLE_ERROR_CODES,
  create: async (context) => (await import('./index.ts')).buildAnsibleProvider(context),
};
