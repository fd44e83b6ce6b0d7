import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { HttpError, Reply } from '../api/http.ts';
import { readBody } from '../api/server.ts';
import type { Logger } from '../log.ts';
import type { ForgeType } from './types.ts';

/** Push payloads list their commits; a push of a few hundred stays well under this. */
export const MAX_HOOK_BYTES = 1024 * 1024;

/**
 * Whether a webhook is the forge's: GitHub, Gitea and Forgejo sign the raw
 * body with HMAC-SHA256 (`X-Hub-Signature-256: sha256=<hex>`; Gitea and
 * Forgejo also send the bare hex as `X-Gitea-Signature` / `X-Forgejo-Signature`),
 * GitLab sends the secret itself as `X-Gitlab-Token`. Compared in constant time.
 */
export function verifyHook(type: ForgeType, headers: IncomingHttpHeaders, body: Buffer, secret: string): boolean {
  if (type === 'gitlab') {
    const token = header(headers, 'x-gitlab-token');
    return token !== undefined && sameText(token, secret);
  }
  const expected = createHmac('sha256', secret).update(body).digest('hex');
  const prefixed = header(headers, 'x-hub-signature-256');
  if (prefixed !== undefined) return prefixed.startsWith('sha256=') && sameText(prefixed.slice('sha256='.length).toLowerCase(), expected);
  if (type !== 'gitea') return false;
  const bare = header(headers, 'x-gitea-signature') ?? header(headers, 'x-forgejo-signature');
  return bare !== undefined && sameText(bare.toLowerCase(), expected);
}

export interface GitHookOptions {
  type: ForgeType;
  secret: string;
  /** Poll the source now (the controller's poll, coalesced there). */
  trigger: () => void;
  log: Logger;
}

/**
 * `POST /hooks/git`: a signed webhook triggers a poll at once (202); a bad
 * or missing signature is 401 and triggers nothing. The payload is not
 * trusted for anything else: the poll reads the repository itself.
 */
export function createGitHook(options: GitHookOptions): (req: IncomingMessage) => Promise<Reply> {
  return async (req) => {
    const body = await readBody(req, MAX_HOOK_BYTES);
    const event = header(req.headers, 'x-github-event') ?? header(req.headers, 'x-gitea-event') ?? header(req.headers, 'x-forgejo-event') ?? header(req.headers, 'x-gitlab-event') ?? 'unknown';
    if (!verifyHook(options.type, req.headers, body, options.secret)) {
      options.log.warn({ event: event.slice(0, 80) }, 'webhook refused: bad signature');
      throw new HttpError(
        401,
        'E_WEBHOOK_SIGNATURE',
        'the webhook signature does not match',
        options.type === 'gitlab' ? "set the webhook's secret token to the content of forge.webhookSecretFile" : "set the webhook's secret to the content of forge.webhookSecretFile (content type application/json)",
      );
    }
    options.log.info({ event: event.slice(0, 80) }, 'webhook received: polling now');
    options.trigger();
    return new Reply(202, { accepted: true });
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Equal texts, in a time that does not tell how much of them matched (digests of equal length are compared). */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
