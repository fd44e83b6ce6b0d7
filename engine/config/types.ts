import type { DriftPolicy, Guard } from '../definitions/types.ts';
import type { ApprovalPolicy } from '../model.ts';
import type { WebhookTarget } from '../notify/notifier.ts';

/** The normalized daemon config (`plumbline.yaml`), every default filled in. */
export interface DaemonConfig {
  /** Absolute path of the file it came from (null for the built-in demo). */
  file: string | null;
  source: {
    /** file://, ssh://, https:// or an absolute local path. */
    url: string;
    branch: string;
    intervalMs: number;
  };
  /** Absolute. */
  stateDir: string;
  api: {
    host: string;
    port: number;
    /** Absolute; generated with mode 0600 when absent. */
    tokenFile: string;
    /**
     * Listening on a non-loopback address was asked for explicitly. The check
     * happens when the config is loaded; optional so configs built in code
     * need not spell it (absent means false).
     */
    allowRemote?: boolean;
  };
  concurrency: number;
  terraform: {
    binary: string;
    /** Absolute, or null to inherit the daemon's environment. */
    cliConfigFile: string | null;
    /** Per terraform command. */
    timeoutMs: number;
  };
  /**
   * How Ansible inventories run. Always filled in by the loader; optional so
   * configs built in code (tests of other providers) need not spell it.
   */
  ansible?: AnsibleSettings;
  defaults: {
    approval: ApprovalPolicy;
    applyAfterMs: number | null;
    /** Drift checks of units that set none (off when absent). */
    drift?: DriftPolicy;
    /** Units that say nothing: destroy what a removed unit managed (true) or keep it Orphaned. */
    prune?: boolean;
    guard?: Guard;
  };
  /** Webhooks told about approvals waiting, applies, failures, drift. */
  notifications?: WebhookTarget[];
  log: { level: string };
  /** GET /metrics: open by default; `requireToken` asks for a viewer's token. Optional in configs built in code (open). */
  metrics?: { requireToken: boolean };
  /** Bounds on what a commit may make the daemon read. Optional in configs built in code. */
  limits?: { manifestBytes: number };
  /** Where plans, approvals and history are kept, and for how long. Optional in configs built in code (SQLite, default retention). */
  store?: StoreSettings;
}

export interface StoreSettings {
  /** A postgres:// URL; null keeps the store in `<stateDir>/plumbline.db` (SQLite). */
  url: string | null;
  /** Absolute; the PostgreSQL password on its first line (else the URL's, else PGPASSWORD). */
  passwordFile: string | null;
  /** How long plans and history events are kept; null keeps them forever. */
  retention: { plansMs: number | null; historyMs: number | null };
}

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
}
