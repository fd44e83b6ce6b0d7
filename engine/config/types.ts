import type { DriftPolicy, Guard } from '../definitions/types.ts';
import type { ApprovalPolicy } from '../model.ts';
import type { WebhookTarget } from '../notify/notifier.ts';
import type { VerifySettings } from '../source/verify.ts';
import type { SandboxSettings } from '../sandbox/types.ts';
import type { OidcSettings } from '../ui/oidc/types.ts';
import type { ForgeSettings } from '../forge/types.ts';

/** `source.previews`: which refs are planned before they are merged. */
export interface PreviewSettings {
  /** Ref globs, such as refs/heads/feature-* (one star, as git refspecs take them). */
  refs: string[];
  /** Ref globs left out; the watched branch always is. */
  exclude: string[];
  /** Preview runs at once, beside the main branch's. */
  concurrency: number;
}

/** The normalized daemon config (`plumbline.yaml`), every default filled in. */
export interface DaemonConfig {
  /** Absolute path of the file it came from (null for the built-in demo). */
  file: string | null;
  source: {
    /** file://, ssh://, https:// or an absolute local path. */
    url: string;
    branch: string;
    intervalMs: number;
    /** Which commits are trusted (off when absent: configs built in code need not spell it). */
    verify?: VerifySettings;
    /** Merge-request previews (absent: none). */
    previews?: PreviewSettings;
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
    /**
     * The origin people open the UI at (`https://plumbline.example.com`), when
     * it is not the listen address (a reverse proxy, TLS in front). Null or
     * absent: the address the API listens on.
     */
    publicUrl?: string | null;
  };
  concurrency: number;
  /**
   * The providers' sections (`terraform:`, `ansible:`) by key, each as its
   * provider normalized it: the engine never looks inside. A provider reads
   * its own with `settingsOf` (engine/provider-kit.ts), which gives its
   * defaults when the section is absent. Always filled in by the loader;
   * optional so configs built in code need not spell it.
   */
  providers?: Record<string, unknown>;
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
  /** This daemon among those sharing a PostgreSQL store. Optional in configs built in code. */
  cluster?: { name: string; leaseTtlMs: number };
  /** GET /metrics: open by default; `requireToken` asks for a viewer's token. Optional in configs built in code (open). */
  metrics?: { requireToken: boolean };
  /** Bounds on what a commit may make the daemon read. Optional in configs built in code. */
  limits?: { manifestBytes: number };
  /** Where plans, approvals and history are kept, and for how long. Optional in configs built in code (SQLite, default retention). */
  store?: StoreSettings;
  /** How tool processes are sandboxed, and what the operator grants to which units. Optional in configs built in code (auto, no grants). */
  sandbox?: SandboxSettings;
  /** How people log in besides tokens. Optional in configs built in code (tokens only). */
  auth?: { oidc: OidcSettings | null };
  /** Where previews and the watched branch's plans are reported, and whose webhooks trigger a poll. Null or absent: none. */
  forge?: ForgeSettings | null;
}

export interface StoreSettings {
  /** A postgres:// URL; null keeps the store in `<stateDir>/plumbline.db` (SQLite). */
  url: string | null;
  /** Absolute; the PostgreSQL password on its first line (else the URL's, else PGPASSWORD). */
  passwordFile: string | null;
  /** Absolute; the key that seals secrets in the store. Null: `<stateDir>/sealing.key`, created on first start. */
  sealingKeyFile: string | null;
  /** How long plans and history events are kept; null keeps them forever. */
  retention: { plansMs: number | null; historyMs: number | null };
}

/** How long a claim (the leader's, a run's) holds without renewal, unless `cluster.leaseTTL` says otherwise. */
export const DEFAULT_LEASE_TTL_MS = 30_000;
