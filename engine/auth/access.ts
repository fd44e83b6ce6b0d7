import { parseDuration } from '../duration.ts';
import { ConflictError, NotFoundError, PlumblineError } from '../errors.ts';
import type { HistoryEvent } from '../model.ts';
import type { Store } from '../store/types.ts';
import * as t from '../controller/transitions.ts';
import { auditFields, describeActor } from './actor.ts';
import { BadRequestError, UnauthorizedError } from './errors.ts';
import { BOOTSTRAP_NAME, bearerToken, checkTokenName, checkUnitGlobs, generateToken, hashToken, sameToken, tokenState, type TokenState } from './tokens.ts';
import type { Actor, ApiToken, Role, StoredToken } from './types.ts';

/** `plumbline token create`: what the new token may do. */
export interface TokenRequest {
  name: string;
  role: Role;
  /** Unit globs, approvers only; absent: every unit. */
  units?: string[];
  /** A duration (`30d`, `12h`); absent: it never expires. */
  expires?: string;
}

/** A token as `plumbline token list` shows it: never the token, never its hash. */
export interface TokenInfo extends ApiToken {
  state: TokenState;
}

/** The answer of `token create`: the token itself, shown this once. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

/** The shortest expiry accepted: anything shorter is gone before it is used. */
const MIN_EXPIRY_MS = 1_000;

/**
 * Who a request is, and the tokens that say so. The token in `api.tokenFile`
 * is the bootstrap admin; every other token lives in the store, hashed, and
 * is looked up on every request, so a revocation or an expiry takes effect on
 * the next request. Creating and revoking a token writes its record and the
 * history event naming who did it in one transaction.
 */
export class AccessControl {
  readonly #bootstrap: string;

  constructor(
    private readonly store: Store,
    bootstrapToken: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (bootstrapToken.length === 0) {
      throw new PlumblineError('E_API_TOKEN', 'the API token is empty', { hint: 'delete api.tokenFile and restart the daemon to generate a new one' });
    }
    this.#bootstrap = bootstrapToken;
  }

  /** The actor of an `Authorization` header; E_UNAUTHORIZED when there is none. */
  async authenticate(authorization: string | undefined, remote: string | undefined): Promise<Actor> {
    const token = bearerToken(authorization);
    if (!token) throw unauthorized('missing or invalid bearer token');
    const at = remote ? { remote } : {};
    if (sameToken(token, this.#bootstrap)) return { name: BOOTSTRAP_NAME, role: 'admin', ...at };
    const stored = await this.store.getTokenByHash(hashToken(token));
    if (!stored) throw unauthorized('missing or invalid bearer token');
    const state = tokenState(stored, this.now());
    if (state === 'revoked') throw unauthorized(`token ${stored.name} was revoked at ${stored.revokedAt} by ${stored.revokedBy}`);
    if (state === 'expired') throw unauthorized(`token ${stored.name} expired at ${stored.expiresAt}`);
    return { name: stored.name, role: stored.role, ...(stored.units ? { units: stored.units } : {}), ...at };
  }

  async createToken(request: TokenRequest, by: Actor): Promise<CreatedToken> {
    const problem = checkTokenName(request.name) ?? (request.units ? checkUnitGlobs(request.units) : undefined);
    if (problem) throw invalid(problem);
    if (request.units && request.role !== 'approver') {
      throw invalid(`--units limits the units an approver decides on; a ${request.role} ${request.role === 'viewer' ? 'decides on none' : 'may grant itself any'}`);
    }
    const now = this.now();
    const expiresAt = request.expires === undefined ? null : new Date(now.getTime() + expiryMs(request.expires)).toISOString();
    const token = generateToken();
    const record: ApiToken = {
      name: request.name,
      role: request.role,
      ...(request.units ? { units: [...new Set(request.units)] } : {}),
      createdAt: now.toISOString(),
      createdBy: by.name,
      expiresAt,
    };
    await this.store.write(async (tx) => {
      const existing = await tx.getToken(request.name);
      if (existing && tokenState(existing, now) === 'active') {
        throw new ConflictError('E_TOKEN_EXISTS', `a token named ${request.name} exists already`, {
          hint: `revoke it first (plumbline token revoke ${request.name}), or choose another name`,
        });
      }
      // A revoked or expired token's name may be given again: the history keeps both tokens apart by time.
      await tx.putToken({ ...record, hash: hashToken(token) });
      await t.record(tx, {
        type: 'token-created',
        unit: null,
        revision: null,
        planId: null,
        message: `token ${record.name} created by ${describeActor(by)}: ${describeGrant(record)}`,
        ...auditFields(by),
      });
    });
    return { ...record, state: 'active', token };
  }

  /** Every token of the store, by name (the bootstrap token lives in api.tokenFile, not here). */
  async listTokens(): Promise<TokenInfo[]> {
    const now = this.now();
    return (await this.store.listTokens()).map((stored) => info(stored, now));
  }

  async revokeToken(name: string, by: Actor): Promise<TokenInfo> {
    if (name === BOOTSTRAP_NAME) {
      throw new ConflictError('E_TOKEN_BOOTSTRAP', `${BOOTSTRAP_NAME} is the token in api.tokenFile: it cannot be revoked through the API`, {
        hint: 'write a new token into api.tokenFile (or delete the file) and restart the daemon',
      });
    }
    const now = this.now();
    const revoked = await this.store.write(async (tx) => {
      const existing = await tx.getToken(name);
      if (!existing) throw new NotFoundError('E_TOKEN_NOT_FOUND', `no token named ${name}`, { hint: 'list tokens with: plumbline token list' });
      if (existing.revokedAt) {
        throw new ConflictError('E_TOKEN_REVOKED', `token ${name} was revoked already, at ${existing.revokedAt} by ${existing.revokedBy}`, {
          hint: 'nothing to do: it opens nothing any more',
        });
      }
      const next: StoredToken = { ...existing, revokedAt: now.toISOString(), revokedBy: by.name };
      await tx.putToken(next);
      await t.record(tx, { type: 'token-revoked', unit: null, revision: null, planId: null, message: `token ${name} revoked by ${describeActor(by)}`, ...auditFields(by) });
      return next;
    });
    return info(revoked, now);
  }

  /** The decisions, newest first: every history event that names the token that took it. */
  async audit(query: { limit?: number; before?: number } = {}): Promise<HistoryEvent[]> {
    return this.store.listHistory({ ...query, decisions: true });
  }
}

/** `approver on prod/*, expires 2026-01-01T00:00:00.000Z`. */
export function describeGrant(token: Pick<ApiToken, 'role' | 'units' | 'expiresAt'>): string {
  const units = token.units ? ` on ${token.units.join(', ')}` : '';
  return `${token.role}${units}, ${token.expiresAt ? `expires ${token.expiresAt}` : 'never expires'}`;
}

function info(stored: StoredToken, now: Date): TokenInfo {
  const { hash: _hash, ...record } = stored;
  return { ...record, state: tokenState(stored, now) };
}

function expiryMs(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    throw invalid(`--expires: ${(error as Error).message}`);
  }
  if (ms < MIN_EXPIRY_MS) throw invalid(`--expires must be at least 1s (got ${JSON.stringify(text)})`);
  return ms;
}

function invalid(message: string): BadRequestError {
  return new BadRequestError(message, { hint: 'see plumbline token create --help' });
}

function unauthorized(message: string): UnauthorizedError {
  return new UnauthorizedError(message, {
    hint: 'send `Authorization: Bearer <token>`: the token in the daemon’s api.tokenFile, or one an admin created with plumbline token create',
  });
}
