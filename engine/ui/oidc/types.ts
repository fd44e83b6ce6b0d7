import type { Role } from '../../auth/types.ts';

/**
 * `auth.oidc` of plumbline.yaml, normalized: people log in to the review UI
 * through an OpenID provider, and their groups give them a role.
 */
export interface OidcSettings {
  /** The provider's issuer identifier (https://, or http:// on loopback). */
  issuer: string;
  clientId: string;
  /** Absolute; the client secret on its first line, readable by the daemon's user only. */
  clientSecretFile: string;
  /** Always holds `openid`. */
  scopes: string[];
  /** The claim that lists the user's groups (a list of strings, or one string). */
  roleClaim: string;
  /** The groups that give each role; a user gets the highest role one of their groups is listed under. */
  roles: Record<Role, string[]>;
}

export type { ExtraRoutes, SessionIssuer, SessionPrincipal } from '../session.ts';
