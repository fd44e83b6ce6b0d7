import type { Role } from '../auth/types.ts';
import { html, type Html } from './html.ts';

/** The signed-in person as pages see them: what to show, and the CSRF token their forms carry. */
export interface Viewer {
  actor: string;
  role: Role;
  units?: readonly string[];
  csrf: string;
}

const NAV: Array<[href: string, label: string]> = [
  ['/', 'Overview'],
  ['/ui/changesets', 'Change sets'],
  ['/ui/previews', 'Previews'],
  ['/ui/source', 'Source'],
  ['/ui/history', 'History'],
  ['/ui/audit', 'Audit'],
];

/** A whole page: header with navigation and who is signed in, then the body. `live` subscribes it to unit updates. */
export function page(options: { title: string; viewer?: Viewer; current?: string; live?: boolean; body: Html }): Html {
  const { title, viewer, current, live, body } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Plumbline</title>
<link rel="stylesheet" href="/assets/ui.css">
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<script src="/assets/ui.js" defer></script>
</head>
<body${live ? html` data-live` : ''}>
<header class="top">
<a class="brand" href="/">Plumbline</a>
${viewer
  ? html`<nav aria-label="Main"><ul>${NAV.map(([href, label]) => html`<li><a href="${href}"${href === current ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul></nav>
<div class="who"><span>${viewer.actor} (${viewer.role})</span>${csrfForm('/logout', viewer, html`<button type="submit" class="link">Log out</button>`)}</div>`
  : ''}
</header>
<main id="main">
${body}
</main>
</body>
</html>`;
}

/** A POST form carrying the session's CSRF token. */
export function csrfForm(action: string, viewer: Viewer, content: Html, attributes: Html = html``): Html {
  return html`<form method="post" action="${action}"${attributes}><input type="hidden" name="csrf" value="${viewer.csrf}">${content}</form>`;
}
