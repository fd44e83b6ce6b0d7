import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ROLES, type ApiToken, type Role } from './types.ts';

/**
 * Personal API tokens: 32 random bytes behind a recognizable prefix (secret
 * scanners and people tell a Plumbline token at a glance). They are random,
 * not passwords, so a plain sha-256 is the right hash: nothing to slow down,
 * and it finds the token's record in one index lookup.
 */

export const TOKEN_PREFIX = 'plb_';

/** The token in `api.tokenFile`: an admin, named so in the history. */
export const BOOTSTRAP_NAME = 'bootstrap';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const MAX_GLOB_LENGTH = 200;
const MAX_GLOBS = 50;

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** Hex sha-256 of the token, as the store keeps it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two tokens (their hashes, so lengths never differ). */
export function sameToken(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashToken(a), 'hex'), Buffer.from(hashToken(b), 'hex'));
}

/** The bearer token of an `Authorization` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  return match?.[1];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Why `name` cannot name a token, or undefined. */
export function checkTokenName(name: string): string | undefined {
  if (!NAME.test(name)) return `token names are 1 to 64 letters, digits and . _ @ + - (starting with a letter or digit), got ${JSON.stringify(name)}`;
  if (name === BOOTSTRAP_NAME) return `${BOOTSTRAP_NAME} names the token in api.tokenFile`;
  return undefined;
}

/** Why `globs` cannot limit a token, or undefined. */
export function checkUnitGlobs(globs: readonly string[]): string | undefined {
  if (globs.length > MAX_GLOBS) return `at most ${MAX_GLOBS} unit globs`;
  for (const glob of globs) {
    if (glob.trim() !== glob || glob === '' || /\s/.test(glob)) return `a unit glob is a unit name or a pattern without spaces, got ${JSON.stringify(glob)}`;
    if (glob.length > MAX_GLOB_LENGTH) return `a unit glob has at most ${MAX_GLOB_LENGTH} characters`;
    if (glob.startsWith('!')) return `a unit glob names the units allowed; a negation (${glob}) is not accepted`;
  }
  return undefined;
}

export type TokenState = 'active' | 'expired' | 'revoked';

export function tokenState(token: Pick<ApiToken, 'expiresAt' | 'revokedAt'>, now: Date): TokenState {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}
