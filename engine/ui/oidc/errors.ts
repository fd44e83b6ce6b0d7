import { PlumblineError, type PlumblineErrorOptions } from '../../errors.ts';

/**
 * Why an OpenID Connect login did not happen. Each code has the HTTP status
 * of the page that says so: the person in the browser reads the message and
 * the hint; the daemon's log has the cause.
 */
export const OIDC_ERRORS = {
  /** auth.oidc.clientSecretFile is missing, unreadable, open to others or empty: the daemon does not start. */
  E_OIDC_SECRET: 500,
  /** The provider's discovery document cannot be fetched: logins wait for it, tokens still work. */
  E_OIDC_ISSUER_UNREACHABLE: 503,
  /** The callback came without the login's cookie, or after it expired. */
  E_OIDC_LOGIN_EXPIRED: 400,
  /** The callback's state is not the one this browser was sent with: a forged or crossed login. */
  E_OIDC_STATE_MISMATCH: 400,
  /** The provider answered the login with an error (the user declined, the client is not allowed). */
  E_OIDC_PROVIDER_REFUSED: 403,
  /** The code could not be exchanged, or the ID token did not validate. */
  E_OIDC_TOKEN: 502,
  /** The user is in none of the groups auth.oidc.roles lists. */
  E_OIDC_NO_ROLE: 403,
} as const;

export type OidcErrorCode = keyof typeof OIDC_ERRORS;

export class OidcError extends PlumblineError {
  declare readonly code: OidcErrorCode;
  constructor(code: OidcErrorCode, message: string, options: PlumblineErrorOptions = {}) {
    super(code, message, options);
  }

  get status(): number {
    return OIDC_ERRORS[this.code];
  }
}
