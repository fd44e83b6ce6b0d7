import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessControl } from '../auth/access.ts';
import { remoteAddress } from '../auth/actor.ts';
import { BadRequestError, ForbiddenError, UnauthorizedError } from '../auth/errors.ts';
import { requireRole } from '../auth/roles.ts';
import type { Actor } from '../auth/types.ts';
import { ConflictError, NotFoundError, PlumblineError, ValidationError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { RECORD_IDENTIFIERS, secrets } from '../secrets.ts';
import type { Ui } from '../ui/ui.ts';
import { GIT_HOOK_PATH, PUBLIC_ROUTES, type EngineFacade } from './contract.ts';
import { errorBody, type ErrorBody } from './error-body.ts';
import { HttpError, Reply } from './http.ts';
import { buildRoutes, type MetricsExposition, type Route } from './routes.ts';

/**
 * The daemon's HTTP API: plain node:http, JSON in and out. Every route but
 * the health checks (and the metrics, unless protected) needs a bearer token,
 * and the role its route names (routes.ts). Every answer, errors included,
 * passes through the secret registry before it is serialized.
 */

export interface ApiServerOptions {
  host: string;
  port: number;
  /** Who a request is: the bootstrap token and the personal tokens. */
  access: AccessControl;
  /** GET /metrics; without it, the route does not exist. */
  metrics?: MetricsExposition & { apiRequest?(route: string, status: number): void };
  log: Logger;
  /** The review UI: answers every path outside /api/ and the open routes, and lets its session cookie stand for a bearer token. */
  ui?: Ui;
  /** `POST /hooks/git` (forge webhooks, checked by their signature, no token); without it the route answers 404. */
  gitHook?: (req: IncomingMessage) => Promise<Reply>;
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

const CLOSE_GRACE_MS = 5000;

export async function startApiServer(facade: EngineFacade, options: ApiServerOptions): Promise<ApiServer> {
  const { log, access, metrics, ui } = options;
  const routes = buildRoutes({ facade, access, metrics });
  const openPaths = new Set(Object.values(PUBLIC_ROUTES).map((spec) => spec.split(' ')[1]!));

  const server = createServer((req, res) => {
    if (ui && !isApiPath(req.url, openPaths) && !isGitHookPath(req.url)) {
      void ui.handle(req, res);
      return;
    }
    const started = performance.now();
    let routeName = 'unmatched';
    let actor: Actor | undefined;
    const finish = (reply: Reply, headers: Record<string, string> = {}): void => {
      send(res, reply, headers);
      metrics?.apiRequest?.(routeName, reply.status);
      log.debug(
        { method: req.method, route: routeName, status: reply.status, ms: Math.round((performance.now() - started) * 10) / 10, ...(actor ? { actor: actor.name } : {}) },
        'api request',
      );
    };

    void (async () => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        throw new HttpError(400, 'E_BAD_REQUEST', 'malformed request URL');
      }
      if (url.pathname === GIT_HOOK_PATH) {
        routeName = `POST ${GIT_HOOK_PATH}`;
        if (!options.gitHook) throw new HttpError(404, 'E_NOT_FOUND', `no such route: ${req.method} ${url.pathname}`, 'set forge.webhookSecretFile in the config to receive webhooks');
        if (req.method !== 'POST') throw new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`, 'use POST', { Allow: 'POST' });
        return options.gitHook(req);
      }
      const segments = url.pathname.split('/').filter(Boolean);
      const candidates = routes
        .map((r) => ({ r, params: matchSegments(r.segments, segments) }))
        .filter((c): c is { r: Route; params: Record<string, string> } => c.params !== null);
      const hit = candidates.find((c) => c.r.method === req.method);
      // Only the open routes answer before authentication: what else exists is not revealed.
      if (hit?.r.need !== null) {
        // A browser's session cookie stands for its token; a bearer token, when sent, always wins.
        const session = ui && req.headers.authorization === undefined ? await ui.apiActor(req) : undefined;
        actor = session ?? (await access.authenticate(req.headers.authorization, remoteAddress(req.socket.remoteAddress)));
      }
      if (candidates.length === 0) {
        throw new HttpError(404, 'E_NOT_FOUND', `no such route: ${req.method} ${url.pathname}`);
      }
      if (!hit) {
        const allow = [...new Set(candidates.map((c) => c.r.method))].join(', ');
        routeName = candidates[0]!.r.name;
        throw new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`, `use ${allow}`, {
          Allow: allow,
        });
      }
      routeName = hit.r.name;
      if (hit.r.need !== null) requireRole(actor!, hit.r.need, hit.r.action);
      const body = hit.r.method === 'POST' ? await readJsonBody(req) : {};
      return hit.r.handle({ params: hit.params, query: url.searchParams, body }, actor);
    })().then(
      (result) => finish(result instanceof Reply ? result : new Reply(200, result)),
      (error: unknown) => {
        const { status, body, headers } = errorAnswer(error);
        if (status >= 500) log.error({ err: error, route: routeName }, 'api request failed');
        if (status === 403) log.warn({ route: routeName, actor: actor?.name, remote: actor?.remote, code: (error as PlumblineError).code }, 'api request refused');
        finish(new Reply(status, body), headers);
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
      // Live pages hold their streams open: end them, or closing would wait for the grace period.
      ui?.close();
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

/** Paths the API answers: /api/... and the open health and metrics routes; the UI answers the rest. */
function isApiPath(rawUrl: string | undefined, openPaths: ReadonlySet<string>): boolean {
  const path = (rawUrl ?? '/').split('?')[0]!;
  return path === '/api' || path.startsWith('/api/') || openPaths.has(path);
}

function isGitHookPath(rawUrl: string | undefined): boolean {
  return (rawUrl ?? '/').split('?')[0] === GIT_HOOK_PATH;
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

/** The raw request body, refused with a 413 beyond `maxBytes` (the webhook route reads its signed bytes with it). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    new HttpError(413, 'E_BODY_TOO_LARGE', `request body exceeds ${maxBytes} bytes`, undefined, {
      Connection: 'close',
    });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume(); // discard, so the client can read the answer
    throw tooLarge();
  }
  const chunks = await new Promise<Buffer[]>((resolve, reject) => {
    const received: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
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
  return Buffer.concat(chunks);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, MAX_BODY_BYTES)).toString('utf8').trim();
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

function errorAnswer(error: unknown): { status: number; body: { error: ErrorBody }; headers: Record<string, string> } {
  if (error instanceof PlumblineError) {
    const status = statusOf(error);
    const headers = error instanceof HttpError ? error.headers : error instanceof UnauthorizedError ? { 'WWW-Authenticate': 'Bearer realm="plumbline"' } : {};
    return { status, body: { error: errorBody(error, status) }, headers };
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

export function statusOf(error: PlumblineError): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof UnauthorizedError) return 401;
  if (error instanceof ForbiddenError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof ValidationError || error instanceof BadRequestError) return 400;
  return 500;
}

/** JSON (masked), or text (masked too) for a reply that says its content type. */
function send(res: ServerResponse, reply: Reply, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const text = reply.contentType ? secrets.maskText(String(reply.body)) : JSON.stringify(secrets.maskDeep(reply.body ?? null, RECORD_IDENTIFIERS));
  res.writeHead(reply.status, {
    'Content-Type': reply.contentType ?? 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}
