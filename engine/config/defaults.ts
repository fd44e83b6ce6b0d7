import type { AnsibleSettings } from './types.ts';

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
