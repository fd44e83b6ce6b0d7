import { z } from 'zod';
import type { CommitStatus } from './types.ts';
import { forgeAnswerInvalid, forgeRefused, forgeUnreachable } from './errors.ts';

/** One forge request: the answer is never waited on longer than this. */
export const FORGE_TIMEOUT_MS = 15_000;
/** Longest wait a forge may ask for before Plumbline tries again anyway. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;
/** GitHub refuses longer status descriptions; the others show them cut anyway. */
export const MAX_STATUS_DESCRIPTION = 140;

export interface ForgeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  /** What is being done, for errors: `post the status plumbline/vpc`. The URL is never in it (it is in no log either). */
  what: string;
  timeoutMs?: number;
}

/** A JSON request with a timeout; non-2xx answers and network failures become ForgeErrors. */
export async function forgeJson<T>(request: ForgeRequest, schema: z.ZodType<T>): Promise<T> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: {
        ...request.headers,
        'user-agent': 'plumbline',
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(request.timeoutMs ?? FORGE_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (error) {
    throw forgeUnreachable(request.what, error);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw forgeUnreachable(request.what, error);
  }
  if (!response.ok) {
    const retryAfterMs = retryAfter(response.headers);
    const rateLimited = response.status === 429 || ((response.status === 403 || response.status === 401) && (retryAfterMs !== undefined || response.headers.get('x-ratelimit-remaining') === '0'));
    throw forgeRefused(request.what, response.status, retryAfterMs, rateLimited);
  }
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw forgeAnswerInvalid(request.what, 'not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw forgeAnswerInvalid(request.what, parsed.error.issues[0]?.message ?? 'wrong shape');
  return parsed.data;
}

/**
 * How long the forge asks to wait: `Retry-After` in seconds or as a date, else
 * the reset time of an exhausted rate limit (GitHub's `x-ratelimit-reset`,
 * GitLab's `ratelimit-reset`, both in epoch seconds).
 */
export function retryAfter(headers: Headers, now = Date.now()): number | undefined {
  const header = headers.get('retry-after');
  let ms: number | undefined;
  if (header !== null) {
    if (/^\d+$/.test(header.trim())) ms = Number(header.trim()) * 1000;
    else if (!Number.isNaN(Date.parse(header))) ms = Date.parse(header) - now;
  } else if (headers.get('x-ratelimit-remaining') === '0' || headers.get('ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset') ?? headers.get('ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) ms = reset * 1000 - now;
  }
  return ms === undefined ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/** `group/sub/project` as one path segment (GitLab's `:id`), `owner/name` as two escaped ones. */
export function ownerAndName(repository: string): string {
  return repository.split('/').map(encodeURIComponent).join('/');
}

/** GitHub's status body, which Gitea and Forgejo take as it is (GitLab names the context `name`). */
export function postGitHubStyleStatus(repo: string, headers: Record<string, string>, sha: string, status: CommitStatus): Promise<unknown> {
  return forgeJson(
    {
      method: 'POST',
      url: `${repo}/statuses/${encodeURIComponent(sha)}`,
      headers,
      body: { state: status.state, context: status.context, description: status.description.slice(0, MAX_STATUS_DESCRIPTION), ...(status.targetUrl ? { target_url: status.targetUrl } : {}) },
      what: `post the status ${status.context}`,
    },
    z.unknown(),
  );
}
