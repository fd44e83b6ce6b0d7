import type { AnsibleSettings, StoreSettings } from './types.ts';

/** How Ansible runs when the config says nothing (also for configs built in code). */
export const DEFAULT_ANSIBLE_SETTINGS: AnsibleSettings = {
  playbookBinary: 'ansible-playbook',
  inventoryBinary: 'ansible-inventory',
  vaultBinary: 'ansible-vault',
  vaultPasswordFile: null,
  privateKeyFile: null,
  maxForks: 20,
  timeoutMs: 30 * 60_000,
  connectTimeoutMs: 10_000,
  controlPersistMs: 60_000,
  pipelining: true,
  recheckHostsAfterMs: 30_000,
};

/** Retention when the config says nothing: plans 90 days, history 400 days (a year and its review). */
export const DEFAULT_STORE_RETENTION: StoreSettings['retention'] = {
  plansMs: 90 * 86_400_000,
  historyMs: 400 * 86_400_000,
};
