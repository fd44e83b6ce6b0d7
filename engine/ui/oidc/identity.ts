import { ROLES, type Role } from '../../auth/types.ts';
import type { OidcSettings } from './types.ts';

/**
 * Who an ID token (and the user info beside it) says the person is, and what
 * role their groups give them.
 */

/** A name longer than this is cut: it is shown in pages and written into every decision's audit entry. */
const MAX_NAME_LENGTH = 128;

/** The groups the role claim lists: a list of strings, or one string; anything else is no group. */
export function groupsOf(claims: Record<string, unknown>, roleClaim: string): string[] {
  const value = claims[roleClaim];
  if (typeof value === 'string') return value ? [value] : [];
  if (!Array.isArray(value)) return [];
  return value.filter((g): g is string => typeof g === 'string' && g.length > 0);
}

/** The highest role whose groups hold one of the user's; undefined when none does. */
export function roleOf(groups: readonly string[], roles: OidcSettings['roles']): Role | undefined {
  const mine = new Set(groups);
  return [...ROLES].reverse().find((role) => roles[role].some((group) => mine.has(group)));
}

/** The name people know the user by: preferred_username, else name, else the subject. */
export function userNameOf(claims: Record<string, unknown>): string {
  for (const key of ['preferred_username', 'name', 'sub']) {
    const value = claims[key];
    // Control characters would forge lines in a log or a terminal; whitespace runs read as one space.
    const clean = typeof value === 'string' ? value.replace(/\s+/g, ' ').replace(/[\p{Cc}\p{Cf}]/gu, '').trim() : '';
    if (clean) return clean.slice(0, MAX_NAME_LENGTH);
  }
  return 'unknown';
}

/**
 * The actor a session of an OpenID user acts as: `alice (oidc)`. The mark
 * keeps people apart from tokens in the audit (a token's name has neither
 * spaces nor parentheses, so no token can pass for a person).
 */
export function oidcActorName(userName: string): string {
  return `${userName} (oidc)`;
}
