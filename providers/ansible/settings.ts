import { resolve } from 'node:path';
import { z } from 'zod';
import { durationSchema, type SettingsPart, toolPath } from '../../engine/provider-kit.ts';

/** The `ansible:` section of plumbline.yaml: how inventories run. */
export interface AnsibleSettings {
  /** Bare names are looked up on PATH; anything with a slash is an absolute path. */
  playbookBinary: string;
  inventoryBinary: string;
  vaultBinary: string;
  /** Absolute; passed as `--vault-password-file` (an executable file is a password script). */
  vaultPasswordFile: string | null;
  /** Absolute; the SSH key for inventories whose manifest names none. */
  privateKeyFile: string | null;
  /** Upper bound of `--forks` (the default is one fork per host). */
  maxForks: number;
  /** Per ansible-playbook run. */
  timeoutMs: number;
  /** SSH connect timeout, for the preflight and for Ansible's own connections. */
  connectTimeoutMs: number;
  /** How long an idle multiplexed SSH connection stays open; null disables ControlPersist. */
  controlPersistMs: number | null;
  /** SSH pipelining (fewer round trips; needs `requiretty` off for `become`). */
  pipelining: boolean;
  /**
   * An apply that starts longer than this after its plan's check run checks its
   * hosts again (preflight) before changing anything; null: always.
   */
  recheckHostsAfterMs: number | null;
  /**
   * Ansible's execution strategy (strategy.ts): its own `linear`, mitogen's,
   * or `auto` (mitogen when its plugins are found for Ansible's Python, else linear).
   */
  strategy: AnsibleStrategy;
  /** With mitogen: how long its start on a host may take (SSH login, Python start, its code sent). */
  mitogenConnectTimeoutMs: number;
}

export const ANSIBLE_STRATEGIES = ['auto', 'linear', 'mitogen'] as const;
export type AnsibleStrategy = (typeof ANSIBLE_STRATEGIES)[number];

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
  strategy: 'auto',
  mitogenConnectTimeoutMs: 60_000,
};

const text = z.string().min(1);

const fields = {
  playbookBinary: text.optional(),
  inventoryBinary: text.optional(),
  vaultBinary: text.optional(),
  vaultPasswordFile: text.optional(),
  privateKeyFile: text.optional(),
  maxForks: z.int().min(1).max(500).optional(),
  timeout: durationSchema.optional(),
  connectTimeout: durationSchema.optional(),
  controlPersist: durationSchema.optional(),
  pipelining: z.boolean().optional(),
  recheckHostsAfter: durationSchema.optional(),
  strategy: z.enum(ANSIBLE_STRATEGIES).optional(),
  mitogenConnectTimeout: durationSchema.optional(),
};

type Section = z.output<z.ZodObject<typeof fields>>;

export const ansibleSettingsPart: SettingsPart<AnsibleSettings> = {
  key: 'ansible',
  fields,
  minimums: { timeout: 1_000, connectTimeout: 1_000, mitogenConnectTimeout: 1_000 },
  defaults: DEFAULT_ANSIBLE_SETTINGS,
  normalize(section, base) {
    const s = section as Section;
    const d = DEFAULT_ANSIBLE_SETTINGS;
    return {
      playbookBinary: toolPath(s.playbookBinary ?? d.playbookBinary, base),
      inventoryBinary: toolPath(s.inventoryBinary ?? d.inventoryBinary, base),
      vaultBinary: toolPath(s.vaultBinary ?? d.vaultBinary, base),
      vaultPasswordFile: s.vaultPasswordFile ? resolve(base, s.vaultPasswordFile) : null,
      privateKeyFile: s.privateKeyFile ? resolve(base, s.privateKeyFile) : null,
      maxForks: s.maxForks ?? d.maxForks,
      timeoutMs: s.timeout ?? d.timeoutMs,
      connectTimeoutMs: s.connectTimeout ?? d.connectTimeoutMs,
      // `0s` (null) turns ControlPersist off; absent means the default.
      controlPersistMs: s.controlPersist === undefined ? d.controlPersistMs : s.controlPersist,
      pipelining: s.pipelining ?? d.pipelining,
      // `0s` (null): check the hosts again before every apply.
      recheckHostsAfterMs: s.recheckHostsAfter === undefined ? d.recheckHostsAfterMs : s.recheckHostsAfter,
      strategy: s.strategy ?? d.strategy,
      mitogenConnectTimeoutMs: s.mitogenConnectTimeout ?? d.mitogenConnectTimeoutMs,
    };
  },
};
