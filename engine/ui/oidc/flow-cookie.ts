import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { sealerOf, type Sealer } from '../../store/sealing.ts';
import { cookieValue } from '../session.ts';
import { OidcError } from './errors.ts';

/**
 * A login in progress: what the callback must check (state, nonce) and send
 * (the PKCE verifier), and where the person was going. It travels in a cookie
 * of its own, sealed (AES-256-GCM) under a key that lives in the daemon's
 * memory only: the browser can neither read nor forge it, and the daemon
 * keeps nothing per login. A restart ends the logins in progress, which is
 * the same as their expiry.
 *
 * The cookie is SameSite=Lax: the callback is a top-level navigation from
 * the provider's site, which Strict would send without it.
 */
export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  /** A path on this daemon (`/plans/abc`), never another site. */
  returnTo: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export const FLOW_COOKIE = 'plumbline_oidc';
/** Only the callback needs it. */
const COOKIE_PATH = '/auth/oidc/';
/** Long enough to type a password and answer a second factor. */
export const LOGIN_TTL_MS = 10 * 60_000;

export class FlowCookies {
  readonly #sealer: Sealer = sealerOf(randomBytes(32));
  constructor(
    /** Secure when the UI is served over https. */
    private readonly secure: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Set-Cookie header that starts a login. */
  start(login: Omit<PendingLogin, 'expiresAt'>): { header: string; login: PendingLogin } {
    const pending: PendingLogin = { ...login, expiresAt: this.now() + LOGIN_TTL_MS };
    const value = this.#sealer.seal(Buffer.from(JSON.stringify(pending))).toString('base64url');
    return { header: this.cookie(value, Math.floor(LOGIN_TTL_MS / 1000)), login: pending };
  }

  /** The Set-Cookie header that ends it, whatever the outcome: a login's cookie serves one callback. */
  clear(): string {
    return this.cookie('', 0);
  }

  /** The login this browser started; E_OIDC_LOGIN_EXPIRED when there is none, or it is too old. */
  read(req: IncomingMessage): PendingLogin {
    const value = cookieValue(req, FLOW_COOKIE);
    const expired = (why: string): OidcError =>
      new OidcError('E_OIDC_LOGIN_EXPIRED', `this login cannot be finished: ${why}`, {
        hint: 'start again from the login page; finish within 10 minutes, in the browser that started it, with cookies allowed for this site',
        retry: 'stalled',
      });
    if (!value) throw expired('the browser sent back no login in progress (it expired, or was started elsewhere)');
    let login: PendingLogin;
    try {
      login = JSON.parse(this.#sealer.open(Buffer.from(value, 'base64url')).toString('utf8')) as PendingLogin;
    } catch {
      // Another daemon's (or a restarted one's) cookie, or a changed one.
      throw expired('its cookie was not made by this daemon since it last started');
    }
    if (login.expiresAt <= this.now()) throw expired(`it was started more than ${LOGIN_TTL_MS / 60_000} minutes ago`);
    return login;
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    return [`${FLOW_COOKIE}=${value}`, `Path=${COOKIE_PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(this.secure ? ['Secure'] : [])].join('; ');
  }
}
