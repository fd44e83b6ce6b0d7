import { type ErrorCode, PlumblineError, type PlumblineErrorOptions } from '../errors.ts';

/**
 * A forge request that failed. `retryable` says whether the delivery queue
 * tries again (down, 5xx, 401/403 while a token is being fixed, rate limited);
 * `retryAfterMs` is what the forge asked for (Retry-After, or its rate-limit
 * reset), which holds every request back, not only this one.
 */
export class ForgeError extends PlumblineError {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(code: ErrorCode, message: string, options: PlumblineErrorOptions & { status?: number; retryAfterMs?: number } = {}) {
    super(code, message, options);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }

  get retryable(): boolean {
    return this.retry !== 'stalled';
  }
}

export function forgeUnreachable(what: string, cause: unknown): ForgeError {
  const reason = cause instanceof Error && cause.name === 'TimeoutError' ? 'timed out' : cause instanceof Error ? cause.message : String(cause);
  return new ForgeError('E_FORGE_UNREACHABLE', `${what}: the forge did not answer (${reason})`, {
    cause,
    retry: 'transient',
    hint: 'check forge.url and that this host can reach the forge; Plumbline retries in the background',
  });
}

/** An answer that is not 2xx, classified by what can be done about it. */
export function forgeRefused(what: string, status: number, retryAfterMs: number | undefined, rateLimited: boolean): ForgeError {
  const base = { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  if (rateLimited) {
    return new ForgeError('E_FORGE_RATE_LIMITED', `${what}: rate limited by the forge (HTTP ${status})`, {
      ...base,
      retry: 'transient',
      hint: 'Plumbline waits as long as the forge asks and tries again; a token of its own keeps others from using up its rate limit',
    });
  }
  if (status === 401 || status === 403) {
    return new ForgeError('E_FORGE_UNAUTHORIZED', `${what}: the forge refused the token (HTTP ${status})`, {
      ...base,
      retry: 'waiting',
      hint: 'check forge.tokenFile: the token must be valid and may write commit statuses and comment on merge requests of forge.repository; restart the daemon after replacing it',
    });
  }
  if (status >= 500 || status === 408) {
    return new ForgeError('E_FORGE_UNAVAILABLE', `${what}: the forge failed (HTTP ${status})`, { ...base, retry: 'transient', hint: 'the forge has trouble; Plumbline retries in the background' });
  }
  return new ForgeError('E_FORGE_REJECTED', `${what}: the forge rejected the request (HTTP ${status})`, {
    ...base,
    retry: 'stalled',
    hint: status === 404 ? 'check forge.repository and forge.type: the forge does not know that repository (or the token may not see it)' : 'this is a bug in Plumbline if it keeps happening; please report it with the daemon log',
  });
}

export function forgeAnswerInvalid(what: string, problem: string): ForgeError {
  return new ForgeError('E_FORGE_ANSWER', `${what}: unexpected answer from the forge (${problem})`, {
    retry: 'stalled',
    hint: 'check forge.type and forge.url: they must name the kind of forge that answers there, and its API root',
  });
}
