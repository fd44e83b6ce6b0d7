import type { ErrorCodeTable } from '../../engine/provider-kit.ts';

/** The codes only Ansible inventories raise. */
export const ANSIBLE_ERROR_CODES = {
  E_ANSIBLE_FAILED: { retry: 'stalled', meaning: 'ansible-playbook failed before it reached the hosts (syntax, a missing role): run plumbline validate, fix the playbook or its roles and commit' },
  E_ANSIBLE_HOSTS_FAILED: { retry: 'stalled', meaning: 'the apply failed on some hosts (transient when they were only unreachable): the unit’s hosts show each result; fix the tasks or hosts and commit' },
  E_ANSIBLE_MITOGEN_MISSING: { retry: 'stalled', meaning: 'ansible.strategy is mitogen but the Python that runs ansible-playbook has no mitogen: install it (Debian: ansible-mitogen) or set it to auto or linear' },
  E_ANSIBLE_INVENTORY: { retry: 'stalled', meaning: 'ansible-inventory could not read the inventory: fix it and commit' },
  E_ANSIBLE_OUTPUT: { retry: 'stalled', meaning: 'ansible-playbook printed no JSON result Plumbline can read: install the ansible.posix collection, with ansible-core 2.14 or newer' },
  E_HOSTS_UNREACHABLE: { retry: 'transient', meaning: 'hosts are unreachable, so the apply does not start (allowUnreachable: false), retried: bring them back, remove them, or set allowUnreachable: true' },
  E_HOSTS_FROM: { retry: 'stalled', meaning: 'the upstream output hostsFrom names is not a list of hosts (each needs a name and an address): fix that output and apply it, or fix hostsFrom' },
  E_KNOWN_HOSTS_MISSING: { retry: 'stalled', meaning: 'the inventory has no known_hosts (host keys are always checked): commit the hosts’ public keys as known_hosts, or publish hostKey in the upstream output' },
  E_SANDBOX_NOT_GRANTED: { retry: 'stalled', meaning: 'the inventory names a file of the control host that the sandbox grants of plumbline.yaml do not give it: grant it there' },
  E_VAULT_PASSWORD_MISSING: { retry: 'stalled', meaning: 'the inventory holds Ansible Vault data but ansible.vaultPasswordFile is not set or cannot be read: set it, readable by the daemon' },
  E_VAULT_DECRYPT: { retry: 'stalled', meaning: 'Vault data does not decrypt with ansible.vaultPasswordFile: put the password it was encrypted with there' },
} as const satisfies ErrorCodeTable;

declare module '../../engine/errors.ts' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging: the keys are what it adds
  interface ErrorCodeRegistry extends Record<keyof typeof ANSIBLE_ERROR_CODES, true> {}
}
