import { resolve } from 'node:path';
import { ROLES } from '../../auth/types.ts';
import { checkHttpsUrl, isLoopback, type RawConfig } from '../../config/schema.ts';
import type { ProblemCollector } from '../../yaml/problems.ts';
import type { OidcSettings } from './types.ts';

/**
 * `auth.oidc` and `api.publicUrl` of plumbline.yaml: the checks that need more
 * than the schema's types, and the defaults. engine/config/load.ts calls both.
 *
 *   api:
 *     publicUrl: https://plumbline.example.com
 *   auth:
 *     oidc:
 *       issuer: https://login.example.com/realms/ops
 *       clientId: plumbline
 *       clientSecretFile: /etc/plumbline/oidc-secret
 *       roles:
 *         admin: [platform-admins]
 *         approver: [platform, sre]
 *         viewer: [engineering]
 */

/** What most providers need to put a name and the groups in the tokens (Dex, Keycloak, Authentik, Okta). */
export const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'groups'];
export const DEFAULT_ROLE_CLAIM = 'groups';

type RawOidc = NonNullable<NonNullable<RawConfig['auth']>['oidc']>;

/**
 * Reports what is wrong with the raw values. `listenHost` is where the API
 * listens: without `api.publicUrl`, the redirect URI is built from it, which
 * only a person on the daemon's own host could reach unless it is loopback.
 */
export function checkOidcSettings(fields: { auth?: unknown; publicUrl?: unknown; listenHost: string | undefined }, report: ProblemCollector): void {
  if (typeof fields.publicUrl === 'string' && fields.publicUrl) {
    const problem = checkPublicUrl(fields.publicUrl);
    if (problem) report.at(['api', 'publicUrl'], problem);
  }
  const oidc = record(record(fields.auth).oidc);
  if (Object.keys(oidc).length === 0) return;
  if (typeof oidc.issuer === 'string' && oidc.issuer) {
    const problem = checkHttpsUrl(oidc.issuer);
    if (problem) report.at(['auth', 'oidc', 'issuer'], problem);
  }
  if (Array.isArray(oidc.scopes) && !oidc.scopes.includes('openid')) {
    report.at(['auth', 'oidc', 'scopes'], `must include openid, or the provider answers no ID token (got ${oidc.scopes.join(', ') || 'none'})`);
  }
  const roles = record(oidc.roles);
  if (oidc.roles !== undefined && !ROLES.some((role) => Array.isArray(roles[role]) && roles[role].length > 0)) {
    report.at(['auth', 'oidc', 'roles'], `names no group: list the groups of at least one of ${ROLES.join(', ')}, e.g. approver: [sre]; nobody could log in`);
  }
  const publicUrl = typeof fields.publicUrl === 'string' && fields.publicUrl;
  if (!publicUrl && fields.listenHost !== undefined && !isLoopback(fields.listenHost)) {
    report.at(['auth', 'oidc'], 'needs api.publicUrl: the URL people open the UI at, which the provider sends them back to (e.g. https://plumbline.example.com)');
  }
}

/** The section with every default filled in; null when it is absent. */
export function normalizeOidc(raw: RawOidc | null | undefined, base: string): OidcSettings | null {
  if (!raw) return null;
  return {
    issuer: raw.issuer,
    clientId: raw.clientId,
    clientSecretFile: resolve(base, raw.clientSecretFile),
    scopes: [...new Set(raw.scopes ?? DEFAULT_SCOPES)],
    roleClaim: raw.roleClaim ?? DEFAULT_ROLE_CLAIM,
    roles: { admin: raw.roles.admin ?? [], approver: raw.roles.approver ?? [], viewer: raw.roles.viewer ?? [] },
  };
}

/** `https://plumbline.example.com` from `https://plumbline.example.com/`: the origin the UI is served at. */
export function normalizePublicUrl(url: string | undefined): string | null {
  return url ? new URL(url).origin : null;
}

/** The UI is served at `/` of its origin: a path, a query or credentials in the URL would be lost or leaked. */
function checkPublicUrl(url: string): string | undefined {
  const problem = checkHttpsUrl(url);
  if (problem) return problem;
  const parsed = new URL(url);
  if (parsed.username || parsed.password) return 'must not hold credentials';
  if (parsed.pathname !== '/' || parsed.search || parsed.hash) {
    return `must be an origin alone, e.g. https://plumbline.example.com: the UI is served at / (got ${JSON.stringify(url)})`;
  }
  return undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
