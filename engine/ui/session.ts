import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Role } from '../auth/types.ts';

/**
 * Browser sessions of the review UI. A session is started by a login (a
 * personal token, or an OpenID Connect provider through the SessionIssuer
 * seam) and named by a random 256-bit id in an HttpOnly, SameSite=Strict
 * cookie. Sessions live in this process's memory only: a restart logs
 * everyone out, and nothing of them is ever written to disk.
 */

/** Who a session acts as: the actor name recorded in the history, the role, and how they logged in. */
export interface SessionPrincipal {
  actor: string;
  role: Role;
  via: 'token' | 'oidc';
}

/** The seam a login method uses to start a session once it knows who logged in. */
export interface SessionIssuer {
  /** Starts a session for who and sets its cookie on res (HttpOnly, SameSite=Strict, Path=/, Secure when the request came over TLS). */
  issue(req: IncomingMessage, res: ServerResponse, who: SessionPrincipal): void;
}

/**
 * Routes another login method mounts under `/auth/oidc/` (createUi's
 * `extraRoutes`): called for every request under that prefix, it answers and
 * returns true, or returns false and the UI answers 404. It starts sessions
 * through `issuer`.
 */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, issuer: SessionIssuer) => Promise<boolean>;

export interface Session {
  principal: SessionPrincipal;
  /** Unit globs of the token the session was made from (approvers); absent: every unit. */
  units?: readonly string[];
  /** The token a `via: 'token'` session was made from: checked again on every request, so a revocation ends the session. */
  credential?: string;
  /** Sent back in every form and in the X-CSRF-Token header of fetch() calls. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export const SESSION_COOKIE = 'plumbline_session';

export interface SessionLimits {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after its login, used or not. */
  absoluteMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { idleMs: 60 * 60_000, absoluteMs: 12 * 60 * 60_000 };

/** Ids of 32 random bytes; sessions are kept by the sha-256 of their id, so the map never holds a usable cookie. */
export class SessionStore implements SessionIssuer {
  readonly #sessions = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  issue(req: IncomingMessage, res: ServerResponse, who: SessionPrincipal): void {
    this.start(req, res, who);
  }

  /** Starts a session (ending the one the request came with, so a login never reuses an id). */
  start(req: IncomingMessage, res: ServerResponse, who: SessionPrincipal, extra: Pick<Session, 'units' | 'credential'> = {}): Session {
    const previous = cookieValue(req, SESSION_COOKIE);
    if (previous) this.#sessions.delete(key(previous));
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: Session = { principal: { ...who }, ...extra, csrf: randomBytes(32).toString('base64url'), createdAt: at, lastSeenAt: at };
    this.#sessions.set(key(id), session);
    appendCookie(res, `${SESSION_COOKIE}=${id}; ${cookieAttributes(req)}; Max-Age=${Math.floor(this.limits.absoluteMs / 1000)}`);
    return session;
  }

  /** The live session of a request (its idle clock restarted), or undefined. */
  get(req: IncomingMessage): Session | undefined {
    const id = cookieValue(req, SESSION_COOKIE);
    if (!id) return undefined;
    const session = this.#sessions.get(key(id));
    if (!session) return undefined;
    const at = this.now();
    if (this.expired(session, at)) {
      this.#sessions.delete(key(id));
      return undefined;
    }
    session.lastSeenAt = at;
    return session;
  }

  /** Ends the request's session and clears its cookie. */
  end(req: IncomingMessage, res: ServerResponse): void {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id) this.#sessions.delete(key(id));
    appendCookie(res, `${SESSION_COOKIE}=; ${cookieAttributes(req)}; Max-Age=0`);
  }

  /** Ends every session made from this token (it was revoked or expired). */
  endCredential(credential: string): void {
    for (const [k, s] of this.#sessions) if (s.credential === credential) this.#sessions.delete(k);
  }

  get size(): number {
    return this.#sessions.size;
  }

  private expired(session: Session, at: number): boolean {
    return at - session.lastSeenAt >= this.limits.idleMs || at - session.createdAt >= this.limits.absoluteMs;
  }

  private sweep(): void {
    const at = this.now();
    for (const [k, s] of this.#sessions) if (this.expired(s, at)) this.#sessions.delete(k);
  }
}

/** Whether the CSRF token a request supplied is its session's (constant time). */
export function csrfMatches(session: Session, supplied: string | undefined): boolean {
  if (!supplied) return false;
  const a = createHash('sha256').update(session.csrf).digest();
  const b = createHash('sha256').update(supplied).digest();
  return timingSafeEqual(a, b);
}

/** The request arrived over TLS (the daemon's own listener; a proxy's X-Forwarded-Proto is not trusted). */
export function overTls(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true;
}

function cookieAttributes(req: IncomingMessage): string {
  return `Path=/; HttpOnly; SameSite=Strict${overTls(req) ? '; Secure' : ''}`;
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

function appendCookie(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

function key(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
