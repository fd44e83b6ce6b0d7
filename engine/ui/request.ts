import type { IncomingMessage } from 'node:http';
import { HttpError } from '../api/http.ts';

/** Reading what a browser sent: a form body, and where the request came from. */

const MAX_FORM_BYTES = 64 * 1024;

/** An `application/x-www-form-urlencoded` body (empty for any other type), at most 64 KiB. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, 'E_BODY_TOO_LARGE', `request body exceeds ${MAX_FORM_BYTES} bytes`, undefined, { Connection: 'close' });
    chunks.push(chunk);
  }
  if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The request names this site as its origin (the Origin header, or the
 * Referer when a browser sent no Origin). Hosts are compared, not schemes: a
 * TLS-terminating proxy in front of the daemon changes the scheme only.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const host = req.headers.host;
  const claimed = req.headers.origin ?? req.headers.referer;
  if (!host || !claimed || claimed === 'null') return false;
  try {
    return new URL(claimed).host === host;
  } catch {
    return false;
  }
}
