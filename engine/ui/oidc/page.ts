import type { ServerResponse } from 'node:http';
import { secrets } from '../../secrets.ts';

/**
 * The pages the login answers itself: why it did not happen, and where to go
 * from there. Self-contained (no script, no asset), masked like every answer
 * of the daemon, and sent with no Referer onward: the callback's URL holds
 * the authorization code.
 */
export interface LoginPage {
  status: number;
  title: string;
  message: string;
  hint?: string;
  /** Links shown under the message: [label, href]. */
  links: Array<[string, string]>;

  /** Go on to this local path at once (a same-site navigation). */
  refreshTo?: string;
}

export function sendPage(res: ServerResponse, page: LoginPage): void {
  if (res.headersSent || res.destroyed) return;
  const links = page.links.map(([label, href]) => `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`).join(' ');
  const refresh = page.refreshTo ? `\n<meta http-equiv="refresh" content="0; url=${escapeHtml(page.refreshTo)}">` : '';
  const html = secrets.maskText(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">${refresh}
<title>${escapeHtml(page.title)} · Plumbline</title>
<style>
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
main { max-width: 36rem; margin: 4rem auto; padding: 0 1rem; }
.hint { opacity: 0.85; }
a { margin-right: 1rem; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(page.title)}</h1>
<p role="alert">${escapeHtml(page.message)}</p>
${page.hint ? `<p class="hint">${escapeHtml(page.hint)}</p>` : ''}
<p>${links}</p>
</main>
</body>
</html>
`);
  res.writeHead(page.status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    ...SECURITY_HEADERS,
  });
  res.end(html);
}

/** A redirect that carries no Referer and is never cached. */
export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { Location: location, 'Content-Length': 0, ...SECURITY_HEADERS });
  res.end();
}

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
