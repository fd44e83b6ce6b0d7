import type { IncomingMessage, ServerResponse } from 'node:http';
import * as client from 'openid-client';
import { remoteAddress } from '../../auth/actor.ts';
import { asPlumblineError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { IssuerDiscovery, type DiscoveryOptions } from './discovery.ts';
import { OidcError } from './errors.ts';
import { FlowCookies } from './flow-cookie.ts';
import { groupsOf, oidcActorName, roleOf, userNameOf } from './identity.ts';
import { redirect, sendPage } from './page.ts';
import { readClientSecret } from './secret.ts';
import type { ExtraRoutes, OidcSettings, SessionIssuer } from './types.ts';

/**
 * Logging people in to the review UI through an OpenID provider: the
 * authorization code flow with PKCE (S256), state and nonce.
 *
 *   GET /auth/oidc/login[?next=/path]      sends the browser to the provider
 *   GET /auth/oidc/callback                 where the provider sends it back
 *
 * The callback exchanges the code, validates the ID token (signature, issuer,
 * audience, expiry, nonce), reads the user's groups from the role claim (from
 * the user info when the ID token lacks it), and hands the person to the UI's
 * session issuer with the highest role their groups give. No role, no session.
 */

export const LOGIN_PATH = '/auth/oidc/login';
export const CALLBACK_PATH = '/auth/oidc/callback';

export interface OidcLoginOptions extends Pick<DiscoveryOptions, 'fetch' | 'firstRetryMs' | 'maxRetryMs'> {
  /** The origin people open the UI at; a function when it is known only once the server listens (port 0). */
  baseUrl: string | (() => string);
  log: Logger;
  /** The UI's token login, linked from every page that refuses a login. */
  tokenLoginPath?: string;
}

/** Answers the requests under /auth/oidc/ (true) and leaves every other one to the UI (false). */
export type OidcLogin = ExtraRoutes & {
  /** Stops retrying discovery. */
  close(): void;
};

/**
 * Reads the client secret (a missing or exposed secret file stops the start:
 * E_OIDC_SECRET) and starts discovering the provider in the background.
 */
export async function createOidcLogin(settings: OidcSettings, options: OidcLoginOptions): Promise<OidcLogin> {
  const { log } = options;
  const secret = await readClientSecret(settings.clientSecretFile);
  const discovery = new IssuerDiscovery(settings, secret, options);
  discovery.start();
  const baseUrl = typeof options.baseUrl === 'function' ? options.baseUrl : () => options.baseUrl as string;
  const tokenLogin = options.tokenLoginPath ?? '/login';
  let cookies: FlowCookies | undefined;
  // The Secure flag follows the scheme, known once the server listens.
  const flowCookies = (): FlowCookies => (cookies ??= new FlowCookies(baseUrl().startsWith('https:')));

  const startLogin = async (url: URL, res: ServerResponse): Promise<void> => {
    const config = await discovery.configuration();
    const verifier = client.randomPKCECodeVerifier();
    const { header, login } = flowCookies().start({
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier,
      returnTo: localPath(url.searchParams.get('next')),
    });
    const target = client.buildAuthorizationUrl(config, {
      redirect_uri: new URL(CALLBACK_PATH, baseUrl()).href,
      scope: settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    });
    res.appendHeader('Set-Cookie', header);
    redirect(res, target.href);
  };

  const finishLogin = async (req: IncomingMessage, url: URL, res: ServerResponse, issuer: SessionIssuer): Promise<void> => {
    // Whatever happens next, this login's cookie has served.
    res.appendHeader('Set-Cookie', flowCookies().clear());
    const login = flowCookies().read(req);
    const params = url.searchParams;
    if (params.get('state') !== login.state) {
      throw new OidcError('E_OIDC_STATE_MISMATCH', 'this answer of the OpenID provider does not belong to the login this browser started', {
        hint: 'start again from the login page; if you did not just try to log in, someone may have sent you this link',
      });
    }
    const refusal = params.get('error');
    if (refusal) {
      const description = params.get('error_description');
      throw new OidcError('E_OIDC_PROVIDER_REFUSED', `the OpenID provider refused the login: ${refusal}${description ? ` (${description.slice(0, 300)})` : ''}`, {
        hint: 'if you did not cancel it, ask the provider’s administrator whether Plumbline’s client may log you in',
      });
    }
    const config = await discovery.configuration();
    const claims = await verifiedClaims(config, new URL(`${CALLBACK_PATH}${url.search}`, baseUrl()), login, settings.roleClaim);
    const user = userNameOf(claims);
    const groups = groupsOf(claims, settings.roleClaim);
    const role = roleOf(groups, settings.roles);
    const remote = remoteAddress(req.socket.remoteAddress);
    if (!role) {
      log.warn({ code: 'E_OIDC_NO_ROLE', user, subject: claims.sub, groups: groups.slice(0, 50), remote }, 'OpenID login refused: no group of the user gives a role');
      throw new OidcError('E_OIDC_NO_ROLE', `${user} is in none of the groups that give a role in Plumbline (${settings.roleClaim}: ${groups.join(', ') || 'none'})`, {
        hint: 'ask a Plumbline admin to list one of your groups under auth.oidc.roles, or ask for a token',
      });
    }
    const actor = oidcActorName(user);
    issuer.issue(req, res, { actor, role, via: 'oidc' });
    log.info({ actor, role, subject: claims.sub, remote }, 'OpenID login');
    // Not a redirect: the session cookie is SameSite=Strict, and a redirect
    // would still be part of the navigation the provider's site started, so
    // the browser would not send it. A page of this site going on does.
    sendPage(res, { status: 200, title: 'Logged in', message: `Logged in as ${user} (${role}).`, links: [['Continue', login.returnTo]], refreshTo: login.returnTo });
  };

  const refuse = (res: ServerResponse, error: unknown): void => {
    const typed = error instanceof OidcError ? error : undefined;
    if (typed) {
      if (typed.code !== 'E_OIDC_NO_ROLE') log.warn({ code: typed.code, err: typed }, 'OpenID login failed');
    } else {
      log.error({ err: error }, 'OpenID login failed');
    }
    const shown = typed ?? asPlumblineError(error);
    sendPage(res, {
      status: typed?.status ?? 500,
      title: typed?.code === 'E_OIDC_NO_ROLE' ? 'No access' : 'Login failed',
      message: shown.message,
      ...(shown.hint ? { hint: shown.hint } : {}),
      links: [
        ['Log in with a token', tokenLogin],
        ['Try OpenID Connect again', LOGIN_PATH],
      ],
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, issuer: SessionIssuer): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith('/auth/oidc/')) return false;
    try {
      if (url.pathname !== LOGIN_PATH && url.pathname !== CALLBACK_PATH) {
        sendPage(res, { status: 404, title: 'Not found', message: `no such page: ${url.pathname}`, links: [['Log in', LOGIN_PATH]] });
      } else if (req.method !== 'GET') {
        res.setHeader('Allow', 'GET');
        sendPage(res, { status: 405, title: 'Method not allowed', message: `${req.method} is not allowed on ${url.pathname}`, links: [['Log in', LOGIN_PATH]] });
      } else if (url.pathname === LOGIN_PATH) {
        await startLogin(url, res);
      } else {
        await finishLogin(req, url, res, issuer);
      }
    } catch (error) {
      refuse(res, error);
    }
    return true;
  };
  return Object.assign(handle, { close: () => discovery.close() });
}

/** The token exchange and the ID token's checks, then the claims: the ID token's, completed by the user info. */
async function verifiedClaims(
  config: client.Configuration,
  callbackUrl: URL,
  login: { verifier: string; state: string; nonce: string },
  roleClaim: string,
): Promise<Record<string, unknown>> {
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
  } catch (error) {
    throw new OidcError('E_OIDC_TOKEN', `the OpenID provider’s answer could not be used: ${(error as Error).message}`, {
      hint: 'start again; if it keeps failing, check auth.oidc.clientId and clientSecretFile, and that the clocks of this host and the provider agree',
      cause: error,
      retry: 'transient',
    });
  }
  const idToken = tokens.claims()!;
  if (idToken[roleClaim] !== undefined || !config.serverMetadata().userinfo_endpoint) return idToken;
  // Many providers put the groups in the user info only, unless told otherwise.
  try {
    const info = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
    return { ...info, ...idToken };
  } catch (error) {
    throw new OidcError('E_OIDC_TOKEN', `the user info (for ${roleClaim}) could not be read from the OpenID provider: ${(error as Error).message}`, {
      hint: `start again; if it keeps failing, have the provider put ${roleClaim} in the ID token`,
      cause: error,
      retry: 'transient',
    });
  }
}

/** Where to go after the login: a path on this daemon, never another site (`//evil.example` is one). */
export function localPath(returnTo: string | null): string {
  if (!returnTo || !returnTo.startsWith('/') || returnTo.startsWith('//') || returnTo.startsWith('/\\')) return '/';
  const parsed = new URL(returnTo, 'http://localhost');
  if (parsed.origin !== 'http://localhost' || parsed.pathname.startsWith('/auth/oidc/')) return '/';
  return `${parsed.pathname}${parsed.search}`;
}
