import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { formatDuration, parseDuration } from '../duration.ts';
import { PlumblineError, type Problem, ValidationError } from '../errors.ts';
import { parseYamlDocument, type Locate } from '../yaml/parse.ts';
import { describeValue, ProblemCollector, sortProblems } from '../yaml/problems.ts';
import { checkBranch, checkStoreUrl, checkVerify, checkHttpsUrl, parseListen, type RawConfig, resolveSourceUrl } from './schema.ts';
import { NOTIFICATION_EVENTS } from '../notify/notifier.ts';
import { DEFAULT_STORE_RETENTION } from './defaults.ts';
import { DEFAULT_LEASE_TTL_MS, type DaemonConfig } from './types.ts';
import { DEFAULT_MANIFEST_BYTES } from '../definitions/load.ts';
import type { ProviderModule } from '../provider.ts';
import { builtinProviders } from '../providers.ts';
import { normalizeSettings, providerSections } from './provider-settings.ts';
import { readSandboxSection } from '../sandbox/settings.ts';
import { checkOidcSettings, normalizeOidc, normalizePublicUrl } from '../ui/oidc/settings.ts';
import { checkForgeSection, normalizeForge } from '../forge/settings.ts';

export const DEFAULT_STATE_DIR = '/var/lib/plumbline';
/** A member's claims lapse after this long without a heartbeat; shorter would lose leases to a busy event loop. */
const MIN_LEASE_TTL_MS = 5_000;
export const DEFAULT_LISTEN = '127.0.0.1:7420';
const MIN_INTERVAL_MS = 1_000;
/** Retention shorter than this would delete what a person is still looking at. */
const MIN_RETENTION_MS = 3_600_000;

/** Reads and validates the daemon config; throws `ValidationError` listing every problem. */
export async function loadConfig(file: string): Promise<DaemonConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PlumblineError('E_CONFIG_READ', `cannot read the config file ${file}: ${(error as Error).message}`, {
      hint: 'pass the path of plumbline.yaml with --config',
      cause: error,
    });
  }
  const parsed = parseYamlDocument(text, file);
  if (parsed.problems.length > 0) throw new ValidationError(parsed.problems);
  const { config, problems } = normalizeConfig(parsed.value, file, parsed.locate);
  if (!config) throw new ValidationError(problems);
  return config;
}

/**
 * Validates a config value and fills in every default. Relative paths are
 * relative to the config file's folder (to the working directory when `file`
 * is null, as for a config built in code). `providers` bring their sections.
 */
export function normalizeConfig(
  raw: unknown,
  file: string | null,
  locate?: Locate,
  providers: readonly ProviderModule[] = builtinProviders,
): { config?: DaemonConfig; problems: Problem[] } {
  const report = new ProblemCollector(file ?? '(config)', locate);
  const value = raw ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    report.atStart(`the config must be a mapping of settings (got ${describeValue(value)})`);
    return { problems: report.problems };
  }
  const sections = providerSections(providers);
  const parsed = sections.schema.safeParse(value, { reportInput: true });
  if (!parsed.success) report.zodIssues(parsed.error.issues, sections.schema);

  const base = file ? dirname(resolve(file)) : process.cwd();
  const fields = value as Record<string, unknown>;
  const source = asRecord(fields.source);
  const api = asRecord(fields.api);
  const store = asRecord(fields.store);
  const retention = asRecord(store.retention);

  const url = typeof source.url === 'string' && source.url ? resolveSourceUrl(source.url, base) : null;
  if (url && !url.ok) report.at(['source', 'url'], url.message);
  if (typeof source.branch === 'string' && source.branch) {
    const problem = checkBranch(source.branch);
    if (problem) report.at(['source', 'branch'], problem);
  }
  for (const problem of checkVerify(asRecord(source.verify))) report.at(['source', 'verify', problem.field], problem.message);
  checkMinimum(source.interval, ['source', 'interval'], report);
  for (const part of sections.parts) {
    const settings = asRecord(fields[part.key]);
    for (const [field, minimumMs] of Object.entries(part.minimums ?? {})) checkMinimum(settings[field], [part.key, field], report, minimumMs);
  }
  checkMinimum(asRecord(fields.cluster).leaseTTL, ['cluster', 'leaseTTL'], report, MIN_LEASE_TTL_MS);
  checkMinimum(retention.plans, ['store', 'retention', 'plans'], report, MIN_RETENTION_MS);
  checkMinimum(retention.history, ['store', 'retention', 'history'], report, MIN_RETENTION_MS);
  if (typeof store.url === 'string' && store.url) {
    const problem = checkStoreUrl(store.url);
    if (problem) report.at(['store', 'url'], problem);
  }
  const hooks = Array.isArray(fields.notifications) ? fields.notifications : [];
  hooks.forEach((hook, i) => {
    const url = asRecord(hook).url;
    const problem = typeof url === 'string' && url ? checkHttpsUrl(url) : undefined;
    if (problem) report.at(['notifications', i, 'url'], problem);
  });
  const listen = typeof api.listen === 'string' && api.listen ? api.listen : DEFAULT_LISTEN;
  const address = parseListen(listen, api.allowRemote === true);
  if (!address.ok) report.at(['api', 'listen'], address.message);
  checkOidcSettings({ auth: fields.auth, publicUrl: api.publicUrl, listenHost: address.ok ? address.host : undefined }, report);
  const sandbox = readSandboxSection(fields.sandbox, base, report);
  checkForgeSection(fields.forge, report);

  if (!parsed.success || report.count > 0 || !url?.ok || !address.ok || !sandbox) return { problems: sortProblems(report.problems) };
  const c = parsed.data as RawConfig & Record<string, unknown>;
  const stateDir = resolve(base, c.stateDir ?? DEFAULT_STATE_DIR);
  return {
    problems: [],
    config: {
      file: file ? resolve(file) : null,
      source: {
        url: url.url,
        branch: c.source.branch ?? 'main',
        intervalMs: c.source.interval ?? 60_000,
        verify: {
          mode: c.source.verify?.mode ?? 'off',
          allowedSigners: c.source.verify?.allowedSigners ? resolve(base, c.source.verify.allowedSigners) : null,
          keyring: c.source.verify?.keyring ? resolve(base, c.source.verify.keyring) : null,
          allCommits: c.source.verify?.allCommits ?? false,
        },
        ...(c.source.previews ? { previews: { refs: c.source.previews.refs, exclude: c.source.previews.exclude ?? [], concurrency: c.source.previews.concurrency ?? 1 } } : {}),
      },
      stateDir,
      api: {
        host: address.host,
        port: address.port,
        tokenFile: c.api?.tokenFile ? resolve(base, c.api.tokenFile) : join(stateDir, 'api-token'),
        allowRemote: c.api?.allowRemote ?? false,
        publicUrl: normalizePublicUrl(c.api?.publicUrl),
      },
      concurrency: c.concurrency ?? 4,
      providers: normalizeSettings(sections.parts, c, base),
      defaults: {
        approval: c.defaults?.approval ?? 'auto-unless-destroy',
        applyAfterMs: c.defaults?.applyAfter ?? null,
        drift: {
          // Drift checks are on by default: every 15 minutes, report only.
          intervalMs: c.defaults?.drift?.interval === undefined ? 15 * 60_000 : c.defaults.drift.interval,
          action: c.defaults?.drift?.action ?? 'report',
          unknownTasks: c.defaults?.drift?.unknownTasks ?? 'ignore',
        },
        ...(c.defaults?.prune ? { prune: true } : {}),
        ...(c.defaults?.guard ? { guard: Object.fromEntries(Object.entries(c.defaults.guard).filter(([, v]) => v !== undefined)) } : {}),
      },
      notifications: (c.notifications ?? []).map((n) => ({ url: n.url, events: n.events ?? [...NOTIFICATION_EVENTS] })),
      log: { level: c.log?.level ?? 'info' },
      metrics: { requireToken: c.metrics?.requireToken ?? false },
      limits: { manifestBytes: c.limits?.manifestBytes ?? DEFAULT_MANIFEST_BYTES },
      cluster: { name: c.cluster?.name ?? hostname(), leaseTtlMs: c.cluster?.leaseTTL ?? DEFAULT_LEASE_TTL_MS },
      store: {
        url: c.store?.url ?? null,
        passwordFile: c.store?.passwordFile ? resolve(base, c.store.passwordFile) : null,
        sealingKeyFile: c.store?.sealingKeyFile ? resolve(base, c.store.sealingKeyFile) : null,
        retention: {
          plansMs: c.store?.retention?.plans === undefined ? DEFAULT_STORE_RETENTION.plansMs : c.store.retention.plans,
          historyMs: c.store?.retention?.history === undefined ? DEFAULT_STORE_RETENTION.historyMs : c.store.retention.history,
        },
      },
      sandbox,
      auth: { oidc: normalizeOidc(c.auth?.oidc, base) },
      ...(c.forge ? { forge: normalizeForge(c.forge, base) } : {}),
    },
  };
}

/** Polling and timeouts of zero would spin; the schema already reported malformed values. */
function checkMinimum(value: unknown, path: string[], report: ProblemCollector, minimumMs = MIN_INTERVAL_MS): void {
  if (typeof value !== 'string' || value === 'off') return;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    return;
  }
  if (ms < minimumMs) report.at(path, `must be at least ${formatDuration(minimumMs)} (got ${JSON.stringify(value)})`);
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
