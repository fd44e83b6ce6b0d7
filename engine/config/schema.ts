import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { approvalSchema, driftIntervalSchema, driftSchema, durationSchema, guardSchema, pruneSchema } from '../definitions/schema.ts';
import { NOTIFICATION_EVENTS } from '../notify/notifier.ts';
import { isPostgresUrl } from '../store/postgres-url.ts';
import { sandboxSectionSchema } from '../sandbox/settings.ts';
import { FORGE_TYPES } from '../forge/types.ts';

/**
 * The shape of the daemon config (`plumbline.yaml`): field names, types and
 * enums, then the checks of values that need more than a type. load.ts runs
 * both and fills in the defaults.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const VERIFY_MODES = ['ssh', 'gpg', 'off'] as const;

const text = z.string().min(1);

/** A ref glob as git's refspecs take them: a full ref name, at most one `*`. */
const previewRefGlob = z
  .string()
  .regex(/^refs\/[A-Za-z0-9._/*-]+$/, 'a full ref name such as refs/heads/* or refs/pull/*/head')
  .refine((glob) => (glob.match(/\*/g) ?? []).length <= 1 && !glob.includes('..') && !glob.endsWith('/'), 'at most one * (git refspecs allow one), no .., no trailing /');

/** Optional sections may also be written empty (`api:` with every line commented out). */
export const section = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject(shape).nullish();

/** The engine's sections before the providers' (`terraform:`, `ansible:`), which engine/config/provider-settings.ts adds. */
export const leadingSections = {
  source: z.strictObject({
    url: text,
    branch: text.optional(),
    interval: durationSchema.optional(),
    verify: section({
      mode: z.enum(VERIFY_MODES).optional(),
      allowedSigners: text.optional(),
      keyring: text.optional(),
      allCommits: z.boolean().optional(),
    }),
    previews: section({
      refs: z.array(previewRefGlob).min(1),
      exclude: z.array(previewRefGlob).optional(),
      concurrency: z.int().min(1).max(16).optional(),
    }),
  }),
  stateDir: text.optional(),
  api: section({
    listen: text.optional(),
    tokenFile: text.optional(),
    allowRemote: z.boolean().optional(),
    publicUrl: text.optional(),
  }),
  concurrency: z.int().min(1).max(64).optional(),
};

/** The engine's sections after the providers'. */
export const trailingSections = {
  defaults: section({
    approval: approvalSchema.optional(),
    applyAfter: durationSchema.optional(),
    drift: driftSchema,
    prune: pruneSchema,
    guard: guardSchema,
  }),
  notifications: z
    .array(
      z.strictObject({
        url: text,
        events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).optional(),
      }),
    )
    .nullish(),
  log: section({
    level: z.enum(LOG_LEVELS).optional(),
  }),
  limits: section({
    manifestBytes: z.int().min(1024).max(64 * 1024 * 1024).optional(),
  }),
  cluster: section({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-", at most 63 characters').optional(),
    leaseTTL: durationSchema.optional(),
  }),
  store: section({
    url: text.optional(),
    passwordFile: text.optional(),
    sealingKeyFile: text.optional(),
    retention: section({
      // A duration, or `off` to keep everything.
      plans: driftIntervalSchema.optional(),
      history: driftIntervalSchema.optional(),
    }),
  }),
  metrics: section({
    requireToken: z.boolean().optional(),
  }),
  auth: section({
    oidc: section({
      issuer: text,
      clientId: text,
      clientSecretFile: text,
      scopes: z.array(text).min(1).optional(),
      roleClaim: text.optional(),
      roles: z.strictObject({ admin: z.array(text).nullish(), approver: z.array(text).nullish(), viewer: z.array(text).nullish() }),
    }),
  }),
  // `auto | bwrap | off`, or a mapping with the mode and the operator's grants (engine/sandbox/settings.ts).
  sandbox: sandboxSectionSchema,
  // Commit statuses and merge-request comments (engine/forge/), and the signed webhooks that trigger a poll.
  forge: section({
    type: z.enum(FORGE_TYPES),
    url: text,
    repository: text,
    tokenFile: text,
    webhookSecretFile: text.optional(),
  }),
};

/** The engine's sections as their schemas parse them; the providers' are read apart. */
export type RawConfig = z.output<z.ZodObject<typeof leadingSections & typeof trailingSections>>;

/**
 * Webhooks, the OpenID issuer, the daemon's public URL: https, or http on
 * loopback (a local relay, a test provider); no credentials in logs.
 */
export function checkHttpsUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a URL (got ${JSON.stringify(url)})`;
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && isLoopback(parsed.hostname.replace(/^\[|\]$/g, ''))) return undefined;
  return `must be an https:// URL (http:// only on a loopback address) (got ${parsed.protocol}//${parsed.host})`;
}

/** The store's database: postgres:// only (SQLite needs no URL). The URL is never echoed: it may hold a password. */
export function checkStoreUrl(url: string): string | undefined {
  if (!isPostgresUrl(url)) {
    return `must be a postgres:// URL, e.g. postgres://plumbline@db.example.com:5432/plumbline (leave store.url out for the embedded SQLite store)`;
  }
  try {
    new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  return undefined;
}

/**
 * source.verify: the mode needs its trust file, and a trust file without a
 * mode would leave verification off while the operator believes it on.
 */
export function checkVerify(verify: Record<string, unknown>): Array<{ field: string; message: string }> {
  const mode = verify.mode;
  const problems: Array<{ field: string; message: string }> = [];
  if (mode === 'ssh' && !verify.allowedSigners) {
    problems.push({ field: 'mode', message: 'mode ssh needs source.verify.allowedSigners: the file of trusted keys, in git\'s allowed-signers format' });
  }
  if (mode === 'gpg' && !verify.keyring) {
    problems.push({ field: 'mode', message: 'mode gpg needs source.verify.keyring: a file of the trusted OpenPGP public keys, armored' });
  }
  if (mode === undefined || mode === null) {
    for (const field of ['allowedSigners', 'keyring', 'allCommits'].filter((f) => verify[f] !== undefined && verify[f] !== null)) {
      problems.push({ field, message: 'is set, but source.verify.mode is not: verification stays off unless mode is ssh or gpg (write mode: off to keep it off)' });
    }
  }
  return problems;
}

/*
 * Values that need more than a type check: the source URL, the Git branch and
 * the API's listen address.
 */

export type Checked<T> = ({ ok: true } & T) | { ok: false; message: string };

/**
 * file://, ssh:// and https:// URLs are kept as written; anything without a
 * scheme is a local path, made absolute against `base`.
 */
export function resolveSourceUrl(url: string, base: string): Checked<{ url: string }> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (/^[^/\s]+@[^/\s:]+:/.test(url)) {
      return { ok: false, message: `write scp-style addresses as an ssh:// URL, e.g. ssh://git@example.com/org/infra.git (got ${JSON.stringify(url)})` };
    }
    return { ok: true, url: resolve(base, url) };
  }
  if (scheme === 'http') {
    return { ok: false, message: `plain http:// is not accepted: it sends code and credentials unencrypted; use https:// (got ${JSON.stringify(url)})` };
  }
  if (scheme !== 'file' && scheme !== 'ssh' && scheme !== 'https') {
    return { ok: false, message: `must be a file://, ssh:// or https:// URL or a local path (got ${JSON.stringify(url)})` };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, message: `is not a valid URL (got ${JSON.stringify(url)})` };
  }
  if (scheme === 'file' && parsed.hostname !== '' && parsed.hostname !== 'localhost') {
    return { ok: false, message: `a file:// URL needs an absolute path, e.g. file:///srv/infra.git (got ${JSON.stringify(url)})` };
  }
  if (scheme !== 'file' && parsed.hostname === '') return { ok: false, message: `names no host (got ${JSON.stringify(url)})` };
  return { ok: true, url };
}

/**
 * A subset of `git check-ref-format`: enough to catch typos, and to make sure
 * a branch can never be read as an option of a git command.
 */
export function checkBranch(branch: string): string | null {
  const valid =
    !branch.startsWith('-') &&
    !branch.startsWith('/') &&
    !branch.endsWith('/') &&
    !branch.endsWith('.') &&
    !branch.endsWith('.lock') &&
    !branch.includes('..') &&
    !branch.includes('//') &&
    !branch.includes('@{') &&
    branch !== '@' &&
    !/[\s~^:?*[\\\x00-\x1f\x7f]/.test(branch); // eslint-disable-line no-control-regex -- Git refuses ASCII control characters in ref names
  return valid ? null : `${JSON.stringify(branch)} is not a valid Git branch name`;
}

const LOOPBACK_NAMES = new Set(['localhost', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host.toLowerCase()) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}

/**
 * `host:port` or `[ipv6]:port`. Port 0 lets the system pick a free port.
 * The API can approve applies, so listening beyond this host must be asked
 * for explicitly with `allowRemote`.
 */
export function parseListen(listen: string, allowRemote: boolean): Checked<{ host: string; port: number }> {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:[\]\s]+):(\d+)$/.exec(listen);
  const host = match?.[1];
  const port = Number(match?.[2]);
  if (!host || !Number.isInteger(port) || port > 65535) {
    return { ok: false, message: `must be host:port, e.g. 127.0.0.1:7420 or [::1]:7420 (got ${JSON.stringify(listen)})` };
  }
  if (listen.startsWith('[') && isIP(host) !== 6) {
    return { ok: false, message: `${JSON.stringify(host)} is not an IPv6 address` };
  }
  if (!allowRemote && !isLoopback(host)) {
    return {
      ok: false,
      message: `${listen} accepts connections from other hosts; set api.allowRemote: true if that is intended (the API is loopback-only by default)`,
    };
  }
  return { ok: true, host, port };
}
