/**
 * Sandboxed tool runs. Every tool process that runs code from the repository
 * (terraform, a CDKTF app, Ansible) runs under bubblewrap and sees only what
 * its run needs; the daemon's own secrets (API token, store, config, other
 * units' state and keys) stay out of its view. A provider says what its tool
 * needs (a `SandboxSpec`, built with `sandboxFor` / `runSandbox`), and
 * `run()` in engine/exec.ts enforces it.
 */

export const SANDBOX_MODES = ['auto', 'bwrap', 'off'] as const;
/**
 * `auto`: bubblewrap when it works on this host, else tools run unsandboxed
 * (said loudly at start); `bwrap`: always, the daemon refuses to start
 * without it; `off`: never.
 */
export type SandboxMode = (typeof SANDBOX_MODES)[number];

/** Extra access the operator grants in plumbline.yaml, to the units its globs name. */
export interface SandboxGrant {
  /** Globs of unit names (`machines`, `prod/*`). */
  units: string[];
  /** Absolute paths the units' processes may read. */
  readable: string[];
  /** Absolute paths the units' processes may write. */
  writable: string[];
  /**
   * Processes may outlive the tool (a server a provisioner starts): no
   * process namespace, so no `/proc` either, and tracing other processes is
   * refused by a seccomp filter.
   */
  outlive: boolean;
  /** Capabilities kept (`CAP_SETUID`...); every other one is dropped. */
  capabilities: string[];
}

/** The `sandbox:` section of plumbline.yaml, normalized. */
export interface SandboxSettings {
  mode: SandboxMode;
  grants: SandboxGrant[];
}

export const DEFAULT_SANDBOX_SETTINGS: SandboxSettings = { mode: 'auto', grants: [] };

/** What one tool process may see beyond the system folders every sandbox shows (see bwrap-args.ts). */
export interface SandboxSpec {
  mode: SandboxMode;
  /** Absolute paths shown read-only. */
  readOnly: readonly string[];
  /** Absolute paths shown read-write. Where paths nest, the deeper one decides. */
  readWrite: readonly string[];
  outlive?: boolean;
  capabilities?: readonly string[];
}

/** What a provider says its tool needs, before the operator's grants are added. */
export interface SandboxNeeds {
  readOnly?: readonly (string | null | undefined)[];
  readWrite?: readonly (string | null | undefined)[];
}

/** Whether tool runs are sandboxed on this daemon, for `status` and `/metrics`. */
export interface SandboxStatus {
  mode: SandboxMode;
  /** Tool processes run under bubblewrap. */
  enabled: boolean;
  /** Why not, when `enabled` is false. */
  reason?: string;
}
