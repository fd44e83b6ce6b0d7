import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import type { ForgeType } from '../../engine/forge/types.ts';

/**
 * A forge stand-in on loopback: only the documented endpoints Plumbline
 * uses, each checking method, path, headers and JSON fields as the forge's
 * documentation states them. Anything else is refused (and listed in
 * `rejected`, which a test asserts empty): a client that drifts from the
 * documented shapes fails here, not in production.
 */

export interface StoredStatus {
  sha: string;
  /** GitHub/Gitea `context`, GitLab `name`. */
  context: string;
  /** In the forge's own words (GitLab: `failed`). */
  state: string;
  description: string;
  targetUrl?: string;
}

export interface StoredComment {
  id: number;
  body: string;
}

export type Failure = 'down' | 'unauthorized' | 'rate-limited';

export interface Route {
  method: string;
  path: RegExp;
  /** The body's schema (strict objects); undefined: the request has none. */
  body?: z.ZodType;
  /** The query parameters the endpoint documents; others are refused. */
  query?: readonly string[];
  handle(match: RegExpExecArray, body: unknown, query: URLSearchParams): { status: number; json: unknown };
}

export interface ForgeDialect {
  type: ForgeType;
  /** What goes in forge.url for this stand-in, from its origin. */
  baseUrl(origin: string): string;
  /** Checks the request's authentication and content headers; a message when they are wrong. */
  checkHeaders(req: IncomingMessage, token: string): string | undefined;
  routes(forge: ForgeStandIn): Route[];
}

export class ForgeStandIn {
  readonly statuses: StoredStatus[] = [];
  readonly comments = new Map<number, StoredComment[]>();
  /** Open merge requests: number (GitLab: iid) to source branch. */
  readonly mergeRequests = new Map<number, string>();
  readonly rejected: string[] = [];
  /** `METHOD path` of every request that reached an endpoint. */
  readonly requests: string[] = [];
  /** Requests refused by a simulated failure. */
  failedRequests = 0;
  url = '';
  private failure: { mode: Failure; retryAfterSeconds?: number } | null = null;
  private nextId = 1000;
  private server: Server | undefined;

  private constructor(
    readonly dialect: ForgeDialect,
    readonly repository: string,
    readonly token: string,
  ) {}

  static async start(dialect: ForgeDialect, options: { repository?: string; token?: string } = {}): Promise<ForgeStandIn> {
    const forge = new ForgeStandIn(dialect, options.repository ?? 'acme/infra', options.token ?? 'forge-token-5f3c9a1e7d2b');
    const routes = dialect.routes(forge);
    forge.server = createServer((req, res) => void forge.handle(req, res, routes));
    await new Promise<void>((resolve) => forge.server!.listen(0, '127.0.0.1', resolve));
    forge.url = dialect.baseUrl(`http://127.0.0.1:${(forge.server.address() as AddressInfo).port}`);
    return forge;
  }

  get type(): ForgeType {
    return this.dialect.type;
  }

  /** Every later request fails this way, until `fail(null)`. */
  fail(mode: Failure | null, options: { retryAfterSeconds?: number } = {}): void {
    this.failure = mode ? { mode, ...options } : null;
  }

  openMergeRequest(number: number, branch: string): void {
    this.mergeRequests.set(number, branch);
  }

  newId(): number {
    this.nextId += 1;
    return this.nextId;
  }

  commentsOn(number: number): StoredComment[] {
    let list = this.comments.get(number);
    if (!list) this.comments.set(number, (list = []));
    return list;
  }

  /** The newest status of `context` on `sha`. */
  latestStatus(sha: string, context: string): StoredStatus | undefined {
    return this.statuses.filter((s) => s.sha === sha && s.context === context).at(-1);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse, routes: Route[]): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const failure = this.failure;
    if (failure) {
      this.failedRequests += 1;
      if (failure.mode === 'down') {
        req.socket.destroy();
        return;
      }
      const headers: Record<string, string> = failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
      reply(res, failure.mode === 'unauthorized' ? 401 : 429, { message: failure.mode === 'unauthorized' ? 'Bad credentials' : 'rate limit exceeded' }, headers);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const refuse = (status: number, why: string): void => {
      this.rejected.push(`${req.method} ${url.pathname}: ${why}`);
      reply(res, status, { message: why });
    };
    const route = routes.find((r) => r.method === req.method && r.path.test(url.pathname));
    if (!route) return refuse(404, 'no such documented endpoint');
    const headerProblem = this.dialect.checkHeaders(req, this.token);
    if (headerProblem) return refuse(401, headerProblem);
    const unknownQuery = [...url.searchParams.keys()].filter((k) => !(route.query ?? []).includes(k));
    if (unknownQuery.length > 0) return refuse(400, `undocumented query parameters: ${unknownQuery.join(', ')}`);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    if (route.body) {
      if (!/^application\/json/.test(req.headers['content-type'] ?? '')) return refuse(415, 'the body must be sent as application/json');
      try {
        body = JSON.parse(text);
      } catch {
        return refuse(400, 'the body is not JSON');
      }
      const parsed = route.body.safeParse(body);
      if (!parsed.success) return refuse(422, `the body does not match the documented fields: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      body = parsed.data;
    } else if (text.length > 0) {
      return refuse(400, 'this endpoint takes no body');
    }
    this.requests.push(`${req.method} ${url.pathname}`);
    const answer = route.handle(route.path.exec(url.pathname)!, body, url.searchParams);
    reply(res, answer.status, answer.json);
  }
}

function reply(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A page of `list` as `page` and `per_page` (or `limit`) ask. */
export function pageOf<T>(list: readonly T[], query: URLSearchParams, sizeParam: string, defaultSize: number): T[] {
  const page = Number(query.get('page') ?? '1');
  const size = Number(query.get(sizeParam) ?? String(defaultSize));
  return list.slice((page - 1) * size, page * size);
}

/** Escaped for a RegExp. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
