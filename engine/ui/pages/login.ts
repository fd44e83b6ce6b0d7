import { html, type Html } from '../html.ts';
import { page, type Viewer } from '../layout.ts';

/** The token form, and the OpenID Connect link when a provider is configured. */
export function loginPage(options: { next: string; error?: string; oidc: boolean }): Html {
  const body = html`<div class="login">
<h1>Log in to Plumbline</h1>
${options.error ? html`<div class="banner error" role="alert">${options.error}</div>` : ''}
<form method="post" action="/login">
<input type="hidden" name="next" value="${options.next}">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="off" required spellcheck="false">
<button type="submit" class="primary">Log in</button>
</form>
<p class="muted">A personal token from <span class="mono">plumbline token create NAME --role viewer|approver|admin</span>. The session ends after an hour without use, after twelve hours at most, and when the token is revoked.</p>
${options.oidc ? html`<p><a href="/auth/oidc/login${options.next !== '/' ? `?next=${encodeURIComponent(options.next)}` : ''}">Log in with OpenID Connect</a></p>` : ''}
</div>`;
  return page({ title: 'Log in', body });
}

/** An error as a page: what went wrong and the hint the engine gave. */
export function errorPage(status: number, message: string, hint: string | undefined, viewer: Viewer | undefined): Html {
  const body = html`<h1>${status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : status === 409 ? 'Conflict' : 'Error'}</h1>
<div class="banner error" role="alert"><p>${message}</p>${hint ? html`<p class="muted">${hint}</p>` : ''}</div>
<p><a href="/">Back to the overview</a></p>`;
  return page({ title: `Error ${status}`, ...(viewer ? { viewer } : {}), body });
}
