import type { ApprovalPolicy } from '../model.ts';

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
  defaults: {
    approval: ApprovalPolicy;
    applyAfterMs: number | null;
  };
  log: { level: string };
}
