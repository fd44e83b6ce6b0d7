import type { IncomingMessage, ServerResponse } from 'node:http';
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

/*
 * The UI's session seam (engine/ui/session.ts): declared here until the UI
 * lands, with the same shape, so the login can be built and tested on its own.
 */

/** Who a session belongs to, and how they proved it. */
export interface SessionPrincipal {
  actor: string;
  role: Role;
  via: 'token' | 'oidc';
}

/** Starts a session for someone who has just logged in: sets its cookie on `res`. */
export interface SessionIssuer {
  issue(req: IncomingMessage, res: ServerResponse, who: SessionPrincipal): void;
}
