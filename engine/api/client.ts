import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConflictError, type ErrorCode, NotFoundError, PlumblineError, ValidationError, type Problem, type RetryClass } from '../errors.ts';
import type { ChangeSet, HistoryEvent, PlanRecord } from '../model.ts';
import type { ChangeSetDetail, DriftAnswer, MetricsAnswer, PlanDetail, StatusAnswer, SyncAnswer, UnitReads, ClusterAnswer, PreviewsAnswer } from './contract.ts';
import { readToken } from './token.ts';
import type { CreatedToken, TokenInfo, TokenRequest } from '../auth/access.ts';
import { ForbiddenError, UnauthorizedError } from '../auth/errors.ts';

/** How long one API call may take before the client gives up. */
const DEFAULT_TIMEOUT_MS = 60_000;

/** Connection-level failures that mean "nothing answers at that address". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const RETRY_CLASSES: readonly RetryClass[] = ['stalled', 'waiting', 'transient'];

/** Typed client of the daemon's HTTP API (global fetch). */
export class ApiClient {
  readonly baseUrl: string;
  // A private field: the token never shows up when the client is logged or inspected.
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, token: string, options: { timeoutMs?: number } = {}) {
    this.baseUrl = normalizeBaseUrl(baseUrl);
    this.#token = token;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  status(): Promise<StatusAnswer> {
    return this.#request('GET', '/api/v1/status');
  }

  listPlans(unit?: string, page: { limit?: number; before?: string } = {}): Promise<PlanRecord[]> {
    return this.#request('GET', `/api/v1/plans${query({ unit, limit: page.limit, before: page.before })}`);
  }

  getPlan(id: string): Promise<PlanDetail> {
    return this.#request('GET', `/api/v1/plans/${encodeURIComponent(id)}`);
  }

  /** Decisions name the token that takes them: whoever holds this client's token. */
  approve(id: string): Promise<PlanRecord> {
    return this.#request('POST', `/api/v1/plans/${encodeURIComponent(id)}/approve`, {});
  }

  reject(id: string, reason?: string): Promise<PlanRecord> {
    return this.#request('POST', `/api/v1/plans/${encodeURIComponent(id)}/reject`, reason === undefined ? {} : { reason });
  }

  history(unit?: string, limit?: number, before?: number): Promise<HistoryEvent[]> {
    return this.#request('GET', `/api/v1/history${query({ unit, limit, before })}`);
  }

  sync(allowRewrite = false, unit?: string): Promise<SyncAnswer> {
    return this.#request('POST', '/api/v1/sync', unit ? { allowRewrite, unit } : { allowRewrite });
  }

  listPreviews(ref?: string): Promise<PreviewsAnswer> {
    return this.#request('GET', `/api/v1/previews${query({ ref })}`);
  }

  listChangeSets(): Promise<ChangeSet[]> {
    return this.#request('GET', '/api/v1/changesets');
  }

  getChangeSet(id: string): Promise<ChangeSetDetail> {
    return this.#request('GET', `/api/v1/changesets/${encodeURIComponent(id)}`);
  }

  approveChangeSet(id: string): Promise<ChangeSetDetail> {
    return this.#request('POST', `/api/v1/changesets/${encodeURIComponent(id)}/approve`, {});
  }

  drift(unit?: string): Promise<DriftAnswer> {
    return this.#request('POST', '/api/v1/drift', unit ? { unit } : {});
  }

  cluster(): Promise<ClusterAnswer> {
    return this.#request('GET', '/api/v1/cluster');
  }

  why(unit: string): Promise<UnitReads> {
    return this.#request('GET', `/api/v1/why${query({ unit })}`);
  }

  metrics(): Promise<MetricsAnswer> {
    return this.#request('GET', '/api/v1/metrics');
  }

  healthz(): Promise<{ ok: boolean }> {
    return this.#request('GET', '/api/v1/healthz');
  }

  listTokens(): Promise<TokenInfo[]> {
    return this.#request('GET', '/api/v1/tokens');
  }

  createToken(request: TokenRequest): Promise<CreatedToken> {
    return this.#request('POST', '/api/v1/tokens', request);
  }

  revokeToken(name: string): Promise<TokenInfo> {
    return this.#request('POST', `/api/v1/tokens/${encodeURIComponent(name)}/revoke`, {});
  }

  /** The decisions, newest first: each names the token that took it. */
  audit(limit?: number, before?: number): Promise<HistoryEvent[]> {
    return this.#request('GET', `/api/v1/audit${query({ limit, before })}`);
  }

  async #request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#token}`,
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw this.#connectionError(error);
    }

    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.#connectionError(error);
    }
    let parsed: unknown;
    try {
      parsed = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok) {
      if (parsed === undefined) {
        throw new PlumblineError('E_API_BAD_RESPONSE', `${this.baseUrl} answered ${method} ${path} with no JSON`, {
          hint: 'check that --server points at a Plumbline daemon',
          retry: 'transient',
        });
      }
      return parsed as T;
    }
    throw this.#answerError(response.status, parsed);
  }

  #answerError(status: number, parsed: unknown): PlumblineError {
    const error = (parsed as { error?: unknown } | undefined)?.error;
    if (!error || typeof error !== 'object' || typeof (error as { code?: unknown }).code !== 'string') {
      return new PlumblineError('E_API_BAD_RESPONSE', `${this.baseUrl} answered HTTP ${status}`, {
        hint: 'check that --server points at a Plumbline daemon',
        retry: status >= 500 ? 'transient' : 'stalled',
        details: { status },
      });
    }
    // The daemon answers codes of docs/errors.md; one of another version may send a code this build does not list, kept as sent.
    const e = error as { code: ErrorCode; message?: unknown; hint?: unknown; retry?: unknown; problems?: unknown };
    const message = typeof e.message === 'string' ? e.message : `HTTP ${status}`;
    const retry = RETRY_CLASSES.includes(e.retry as RetryClass) ? (e.retry as RetryClass) : undefined;
    const options = {
      ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
      ...(retry ? { retry } : {}),
      details: { status },
    };
    if (status === 401) return new UnauthorizedError(message, options);
    if (status === 403) return new ForbiddenError(message, options);
    if (status === 404) return new NotFoundError(e.code, message, options);
    if (status === 409) return new ConflictError(e.code, message, options);
    if (status === 400 && e.code === 'E_VALIDATION' && Array.isArray(e.problems)) {
      return new ValidationError(e.problems as Problem[], options);
    }
    return new PlumblineError(e.code, message, options);
  }

  #connectionError(error: unknown): PlumblineError {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return new PlumblineError('E_API_TIMEOUT', `${this.baseUrl} did not answer within ${this.#timeoutMs / 1000}s`, {
        cause: error,
        hint: 'the daemon may be overloaded or stuck; check its log',
        retry: 'transient',
      });
    }
    const code = errorCode(error);
    const reason = code ?? (error instanceof Error ? error.message : String(error));
    if (code === undefined || UNREACHABLE_CODES.has(code)) {
      return new PlumblineError('E_DAEMON_UNREACHABLE', `cannot reach the Plumbline daemon at ${this.baseUrl} (${reason})`, {
        cause: error,
        hint: 'start it with `plumbline daemon --config FILE`, or check --server / PLUMBLINE_SERVER',
        retry: 'transient',
      });
    }
    return new PlumblineError('E_API_REQUEST', `request to ${this.baseUrl} failed (${reason})`, {
      cause: error,
      hint: 'check --server / PLUMBLINE_SERVER',
      retry: 'transient',
    });
  }
}

/** fetch wraps network errors in `TypeError('fetch failed', { cause })`; find the errno-style code. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (current instanceof AggregateError && current.errors.length > 0) current = current.errors[0];
    else current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
}

function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PlumblineError('E_BAD_SERVER_URL', `not a URL: ${JSON.stringify(raw)}`, {
      hint: 'pass the daemon address like --server http://127.0.0.1:7777',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PlumblineError('E_BAD_SERVER_URL', `unsupported scheme ${url.protocol} in ${raw}`, {
      hint: 'the daemon speaks http:// (or https:// behind a proxy)',
    });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Where a client connects when the config binds the API to every interface. */
function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export interface ResolveClientOptions {
  /** Daemon config file (plumbline.yaml). */
  config?: string;
  /** Base URL of the daemon API. */
  server?: string;
  token?: string;
}

/**
 * Find the daemon and its token. Each of the two is taken from the first of:
 * --server / --token, PLUMBLINE_SERVER / PLUMBLINE_TOKEN, the `--config` file
 * (api.host, api.port, api.tokenFile), `./plumbline.yaml` when it exists.
 */
export async function resolveClient(
  opts: ResolveClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ApiClient> {
  let server = nonEmpty(opts.server) ?? nonEmpty(env.PLUMBLINE_SERVER);
  let token = nonEmpty(opts.token) ?? nonEmpty(env.PLUMBLINE_TOKEN);

  if (server === undefined || token === undefined) {
    const configFile = nonEmpty(opts.config) ?? (existsSync('plumbline.yaml') ? 'plumbline.yaml' : undefined);
    if (configFile === undefined) {
      const missing = [server === undefined ? 'server' : undefined, token === undefined ? 'token' : undefined]
        .filter(Boolean)
        .join(' and ');
      throw new PlumblineError('E_NO_SERVER', `no daemon ${missing} given`, {
        hint:
          'pass --server URL and --token TOKEN, set PLUMBLINE_SERVER and PLUMBLINE_TOKEN, ' +
          'or point --config at the daemon’s plumbline.yaml (or run from the folder that holds it)',
      });
    }
    const { loadConfig } = await import('../config/load.ts');
    const config = await loadConfig(resolve(configFile));
    server ??= `http://${connectHost(config.api.host)}:${config.api.port}`;
    token ??= await readToken(config.api.tokenFile);
  }
  return new ApiClient(server, token);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
