import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConflictError, NotFoundError, PlumblineError, ValidationError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { RECORD_IDENTIFIERS, secrets } from '../secrets.ts';
import { resolveChangeSetId } from './change-set-ref.ts';
import { API_ROUTES, type EngineFacade } from './contract.ts';
import { errorBody, type ErrorBody } from './error-body.ts';

/**
 * The daemon's HTTP API: plain node:http, JSON in and out, every route behind
 * the bearer token. Every answer, errors included, passes through the secret
 * registry before it is serialized.
 */

export interface ApiServerOptions {
  host: string;
  port: number;
  token: string;
  log: Logger;
}

export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:7777`. */
  url: string;
  /** The bound port (the real one when 0 was asked). */
  port: number;
  close(): Promise<void>;
}

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Who decided, when the request does not say. */
export const DEFAULT_ACTOR = 'api';

const MAX_ACTOR_LENGTH = 200;
const MAX_REASON_LENGTH = 4000;
const CLOSE_GRACE_MS = 5000;

/** An answer that is not an engine error: bad input, auth, routing. */
class HttpError extends PlumblineError {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, message: string, hint?: string, headers: Record<string, string> = {}) {
    super(code, message, hint === undefined ? {} : { hint });
    this.status = status;
    this.headers = headers;
  }
}

interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON object body (POST only; `{}` when empty). */
  body: Record<string, unknown>;
}

interface Route {
  method: 'GET' | 'POST';
  /** Pattern as in API_ROUTES, `:name` segments capture. */
  name: string;
  segments: string[];
  handle(ctx: RequestContext): Promise<unknown>;
}

function route(spec: string, handle: Route['handle']): Route {
  const [method, path] = spec.split(' ') as ['GET' | 'POST', string];
  return { method, name: spec, segments: path.split('/').filter(Boolean), handle };
}

function buildRoutes(facade: EngineFacade): Route[] {
  return [
    route('GET /api/v1/healthz', async () => ({ ok: true })),
    route(API_ROUTES.status, () => facade.status()),
    route(API_ROUTES.metrics, () => facade.metrics()),
    route(API_ROUTES.drift, async ({ body }) => {
      checkFields(body, ['unit']);
      if (body.unit !== undefined && typeof body.unit !== 'string') throw new HttpError(400, 'E_BAD_REQUEST', 'unit must be a string');
      return facade.drift(body.unit ? { unit: body.unit } : {});
    }),
    route(API_ROUTES.plans, async ({ query }) => {
      const unit = optionalQuery(query, 'unit');
      const before = optionalQuery(query, 'before');
      const limit = limitQuery(query);
      return facade.listPlans({ ...(unit !== undefined ? { unit } : {}), ...(before !== undefined ? { before } : {}), ...(limit !== undefined ? { limit } : {}) });
    }),
    route(API_ROUTES.plan, ({ params }) => facade.getPlan(params.id!)),
    route(API_ROUTES.approve, async ({ params, body }) => {
      checkFields(body, ['by']);
      return facade.approve(params.id!, actor(body));
    }),
    route(API_ROUTES.changeSets, () => facade.listChangeSets()),
    // A change set is named by its id or any unique prefix of it (`cs-` and the 8 characters `status` shows).
    route(API_ROUTES.changeSet, async ({ params }) => facade.getChangeSet(await resolveChangeSetId(facade, params.id!))),
    route(API_ROUTES.approveChangeSet, async ({ params, body }) => {
      checkFields(body, ['by']);
      return facade.approveChangeSet(await resolveChangeSetId(facade, params.id!), actor(body));
    }),
    route(API_ROUTES.reject, async ({ params, body }) => {
      checkFields(body, ['by', 'reason']);
      const reason = optionalString(body, 'reason', MAX_REASON_LENGTH);
      return facade.reject(params.id!, actor(body), reason);
    }),
    route(API_ROUTES.history, async ({ query }) => {
      const unit = optionalQuery(query, 'unit');
      const limit = limitQuery(query);
      const before = positiveQuery(query, 'before');
      return facade.history({ ...(unit !== undefined ? { unit } : {}), ...(limit !== undefined ? { limit } : {}), ...(before !== undefined ? { before } : {}) });
    }),
    route(API_ROUTES.why, async ({ query }) => {
      const unit = optionalQuery(query, 'unit');
      if (unit === undefined) throw new HttpError(400, 'E_BAD_REQUEST', 'name the unit: ?unit=NAME');
      return facade.why(unit);
    }),
    route(API_ROUTES.sync, async ({ body }) => {
      checkFields(body, ['allowRewrite', 'unit']);
      const allowRewrite = body.allowRewrite ?? false;
      if (typeof allowRewrite !== 'boolean') {
        throw new HttpError(400, 'E_BAD_REQUEST', 'allowRewrite must be a boolean');
      }
      if (body.unit !== undefined && typeof body.unit !== 'string') {
        throw new HttpError(400, 'E_BAD_REQUEST', 'unit must be a string');
      }
      return facade.sync({ allowRewrite, ...(body.unit ? { unit: body.unit } : {}) });
    }),
  ];
}

export async function startApiServer(facade: EngineFacade, options: ApiServerOptions): Promise<ApiServer> {
  const { log } = options;
  if (options.token.length === 0) {
    throw new PlumblineError('E_API_TOKEN', 'the API token is empty', {
      hint: 'delete api.tokenFile and restart the daemon to generate a new one',
    });
  }
  const expected = digest(options.token);
  const routes = buildRoutes(facade);

  const server = createServer((req, res) => {
    const started = performance.now();
    let routeName = 'unmatched';
    const finish = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      send(res, status, body, headers);
      log.debug(
        { method: req.method, route: routeName, status, ms: Math.round((performance.now() - started) * 10) / 10 },
        'api request',
      );
    };

    void (async () => {
      if (!authorized(req.headers.authorization, expected)) {
        throw new HttpError(
          401,
          'E_UNAUTHORIZED',
          'missing or invalid bearer token',
          'send `Authorization: Bearer <token>` with the token from the daemon’s api.tokenFile',
          { 'WWW-Authenticate': 'Bearer realm="plumbline"' },
        );
      }
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        throw new HttpError(400, 'E_BAD_REQUEST', 'malformed request URL');
      }
      const segments = url.pathname.split('/').filter(Boolean);
      const candidates = routes
        .map((r) => ({ r, params: matchSegments(r.segments, segments) }))
        .filter((c): c is { r: Route; params: Record<string, string> } => c.params !== null);
      if (candidates.length === 0) {
        throw new HttpError(404, 'E_NOT_FOUND', `no such route: ${req.method} ${url.pathname}`);
      }
      const hit = candidates.find((c) => c.r.method === req.method);
      if (!hit) {
        const allow = [...new Set(candidates.map((c) => c.r.method))].join(', ');
        routeName = candidates[0]!.r.name;
        throw new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`, `use ${allow}`, {
          Allow: allow,
        });
      }
      routeName = hit.r.name;
      const body = hit.r.method === 'POST' ? await readJsonBody(req) : {};
      return hit.r.handle({ params: hit.params, query: url.searchParams, body });
    })().then(
      (result) => finish(200, result),
      (error: unknown) => {
        const { status, body, headers } = errorAnswer(error);
        if (status >= 500) log.error({ err: error, route: routeName }, 'api request failed');
        finish(status, body, headers);
      },
    );
  });
  // Clients reuse idle connections. If the server closed them at the same moment
  // (Node's default is 5 s), a request sent on one would fail with "other side
  // closed"; keeping them open well beyond what clients wait avoids that race.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        new PlumblineError('E_API_LISTEN', `cannot listen on ${options.host}:${options.port} (${error.code ?? error.message})`, {
          cause: error,
          hint:
            error.code === 'EADDRINUSE'
              ? 'another process uses that port: stop it or change api.port in the config'
              : 'check api.host and api.port in the config',
          retry: 'stalled',
        }),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  log.info({ url }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        timer.unref();
        server.close((error) => {
          clearTimeout(timer);
          if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time check: both sides are hashed first, so lengths never differ. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  if (!header) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!), expected);
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | null {
  if (pattern.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(a);
      } catch {
        return null;
      }
    } else if (p !== a) {
      return null;
    }
  }
  return params;
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const tooLarge = (): HttpError =>
    new HttpError(413, 'E_BODY_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`, undefined, {
      Connection: 'close',
    });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    req.resume(); // discard, so the client can read the answer
    throw tooLarge();
  }
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const received: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        received.push(chunk);
        return;
      }
      // Stop buffering but keep draining, so the client can read the 413.
      req.off('data', onData);
      req.resume();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(received));
    req.once('error', reject);
    // Settled already when the body was complete; otherwise the client went away.
    req.once('close', () => reject(new HttpError(400, 'E_BAD_REQUEST', 'request body was cut off')));
  });
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'E_BAD_REQUEST', 'request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'E_BAD_REQUEST', 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function checkFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new HttpError(
      400,
      'E_BAD_REQUEST',
      `unknown field${unknown.length > 1 ? 's' : ''} in request body: ${unknown.join(', ')}`,
      allowed.length > 0 ? `accepted fields: ${allowed.join(', ')}` : 'this route takes no body',
    );
  }
}

function optionalString(body: Record<string, unknown>, field: string, maxLength: number): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'E_BAD_REQUEST', `${field} must be a string`);
  if (value.length > maxLength) {
    throw new HttpError(400, 'E_BAD_REQUEST', `${field} is longer than ${maxLength} characters`);
  }
  return value;
}

function actor(body: Record<string, unknown>): string {
  const by = optionalString(body, 'by', MAX_ACTOR_LENGTH)?.trim();
  return by ? by : DEFAULT_ACTOR;
}

function optionalQuery(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value.trim() === '' ? undefined : value.trim();
}

function errorAnswer(error: unknown): { status: number; body: { error: ErrorBody }; headers: Record<string, string> } {
  if (error instanceof PlumblineError) {
    const status =
      error instanceof HttpError ? error.status : error instanceof NotFoundError ? 404 : error instanceof ConflictError ? 409 : error instanceof ValidationError ? 400 : 500;
    return { status, body: { error: errorBody(error, status) }, headers: error instanceof HttpError ? error.headers : {} };
  }
  return {
    status: 500,
    body: {
      error: {
        code: 'E_INTERNAL',
        message: 'internal error',
        hint: 'see the daemon log for details',
        retry: 'transient',
      },
    },
    headers: {},
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(secrets.maskDeep(body ?? null, RECORD_IDENTIFIERS));
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** `?limit=N`: a page size, at most MAX_PAGE. */
function limitQuery(query: URLSearchParams): number | undefined {
  const limit = positiveQuery(query, 'limit');
  if (limit !== undefined && limit > MAX_PAGE) throw new HttpError(400, 'E_BAD_REQUEST', `limit must be at most ${MAX_PAGE}, got ${limit}`, 'page with before= instead');
  return limit;
}

function positiveQuery(query: URLSearchParams, name: string): number | undefined {
  const text = optionalQuery(query, name);
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,11}$/.test(text)) throw new HttpError(400, 'E_BAD_REQUEST', `${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The largest page an answer holds: anything more is paged with `before`. */
const MAX_PAGE = 10_000;
