import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AccessControl } from '../auth/access.ts';
import { remoteAddress } from '../auth/actor.ts';
import { ForbiddenError, UnauthorizedError } from '../auth/errors.ts';
import { requireRole } from '../auth/roles.ts';
import type { Actor } from '../auth/types.ts';
import { resolveChangeSetId } from '../api/change-set-ref.ts';
import type { EngineFacade } from '../api/contract.ts';
import { HttpError } from '../api/http.ts';
import { statusOf } from '../api/server.ts';
import { asPlumblineError, PlumblineError } from '../errors.ts';
import { installRoot } from '../install-root.ts';
import type { Logger } from '../log.ts';
import { RECORD_IDENTIFIERS, secrets } from '../secrets.ts';
import type { StoredOutput } from '../store/types.ts';
import { UnitEvents } from './events.ts';
import { changeSetHref, planHref } from './format.ts';
import type { Html } from './html.ts';
import type { Viewer } from './layout.ts';
import { changeSetPage, changeSetsPage, confirmApproveAllPage, type Destruction } from './pages/changeset.ts';
import { eventsPage } from './pages/history.ts';
import { errorPage, loginPage } from './pages/login.ts';
import { overviewPage } from './pages/overview.ts';
import { planPage } from './pages/plan.ts';
import { previewsPage } from './pages/previews.ts';
import { sourcePage } from './pages/source.ts';
import { unitPage } from './pages/unit.ts';
import { destroyedBy, findItem, planView, type PlanView } from './plan-view.ts';
import { readForm, sameOrigin } from './request.ts';
import { redirect, sendAsset, sendHtml } from './respond.ts';
import { csrfMatches, DEFAULT_SESSION_LIMITS, SessionStore, type ExtraRoutes, type Session, type SessionIssuer, type SessionLimits } from './session.ts';

/**
 * The review UI, served at `/` on the API's listener: server-rendered pages,
 * one stylesheet and one small script, all from this process. A person logs
 * in with a personal token (or through the routes another login method
 * mounts under /auth/oidc/) and acts with that token's role and name, the
 * same as through the API. Data comes from the EngineFacade, masked.
 */

export interface UiOptions {
  facade: EngineFacade;
  access: Pick<AccessControl, 'authenticate' | 'audit'>;
  log: Logger;
  /** Show "Log in with OpenID Connect" on the login page. */
  oidc?: boolean;
  /** Routes under /auth/oidc/ (see ExtraRoutes). */
  extraRoutes?: ExtraRoutes;
  /** A unit's outputs as the store holds them (the unit page shows them, masked). */
  outputs?: (unit: string) => Promise<Record<string, StoredOutput> | undefined>;
  /** The units a unit depends on (the change set's graph); without it the graph has no edges. */
  dependsOn?: (unit: string) => readonly string[];
  sessionLimits?: SessionLimits;
  /** How often live pages are brought up to date (ms). */
  liveIntervalMs?: number;
}

export interface Ui {
  /** Answers every request that is not the API's. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * The actor of an API request made with the session cookie instead of a
   * bearer token, or undefined when it has no live session. A state-changing
   * request must come from this origin and carry the session's X-CSRF-Token.
   */
  apiActor(req: IncomingMessage): Promise<Actor | undefined>;
  readonly sessions: SessionIssuer;
  close(): void;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/ui.css': { file: 'ui.css', type: 'text/css; charset=utf-8' },
  '/assets/ui.js': { file: 'ui.js', type: 'text/javascript; charset=utf-8' },
  '/assets/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
};

const MAX_REASON_LENGTH = 4000;
const PAGE_SIZE = 100;
const VIEW_CACHE_SIZE = 4;

export function createUi(options: UiOptions): Ui {
  const { facade, access, log } = options;
  const sessions = new SessionStore(options.sessionLimits ?? DEFAULT_SESSION_LIMITS);
  // Read at the first request for each, not at start: a daemon nobody browses never reads them.
  const assetBodies = new Map<string, string>();
  const assetBody = (file: string): string => {
    let body = assetBodies.get(file);
    if (body === undefined) assetBodies.set(file, (body = readFileSync(join(installRoot, 'engine', 'ui', 'assets', file), 'utf8')));
    return body;
  };
  const events = new UnitEvents(async () => (await facade.status()).units, options.liveIntervalMs ?? 1000, log);
  const views = new Map<string, PlanView>();
  const dependsOn = options.dependsOn ?? (() => []);

  /** The request's session and the actor it acts as; a session of a revoked or expired token ends here. */
  async function current(req: IncomingMessage): Promise<{ session: Session; actor: Actor } | undefined> {
    const session = sessions.get(req);
    if (!session) return undefined;
    const remote = remoteAddress(req.socket.remoteAddress);
    if (session.credential) {
      try {
        const actor = await access.authenticate(`Bearer ${session.credential}`, remote);
        session.principal.role = actor.role;
        return { session, actor };
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error;
        sessions.endCredential(session.credential);
        return undefined;
      }
    }
    const { actor: name, role } = session.principal;
    return { session, actor: { name, role, ...(remote ? { remote } : {}) } };
  }

  async function view(planId: string): Promise<PlanView> {
    let found = views.get(planId);
    if (!found) {
      found = planView(masked((await facade.getPlan(planId)).document));
      views.set(planId, found);
      if (views.size > VIEW_CACHE_SIZE) views.delete(views.keys().next().value!);
    }
    return found;
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) throw forbidden('this login did not come from this page');
    const form = await readForm(req);
    const next = safeNext(form.get('next'));
    const token = (form.get('token') ?? '').trim();
    try {
      const actor = await access.authenticate(`Bearer ${token}`, remoteAddress(req.socket.remoteAddress));
      sessions.start(req, res, { actor: actor.name, role: actor.role, via: 'token' }, { credential: token, ...(actor.units ? { units: actor.units } : {}) });
      log.info({ actor: actor.name, role: actor.role, remote: actor.remote }, 'ui login');
      redirect(res, next);
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
      log.warn({ remote: remoteAddress(req.socket.remoteAddress) }, 'ui login refused');
      sendHtml(req, res, 401, loginPage({ next, error: `Not logged in: ${error.message}.`, oidc: options.oidc === true }));
    }
  }

  async function get(req: IncomingMessage, res: ServerResponse, url: URL, path: string[], viewer: Viewer, session: Session, actor: Actor): Promise<void> {
    const [first, second, third, fourth] = path;
    const show = (page: Html) => sendHtml(req, res, 200, page);
    if (path.length === 0) {
      const [status, changeSets] = await Promise.all([facade.status(), facade.listChangeSets()]);
      return show(overviewPage(masked(status), masked(changeSets), { name: param(url, 'name'), kind: param(url, 'kind'), phase: param(url, 'phase') }, viewer));
    }
    if (first !== 'ui') throw notFound(url);
    if (second === 'previews' && !third) return show(previewsPage(masked((await facade.listPreviews()).previews), dependsOn, viewer));
    if (second === 'changesets' && !third) return show(changeSetsPage(masked(await facade.listChangeSets()), viewer));
    if (second === 'changesets' && third) {
      const detail = masked(await facade.getChangeSet(await resolveChangeSetId(facade, third)));
      if (!fourth) return show(changeSetPage(detail, dependsOn, viewer));
      if (fourth === 'confirm' && path.length === 4) {
        requireRole(actor, 'approver', 'approve change sets');
        const destructions: Destruction[] = [];
        for (const e of detail.entries) {
          if (e.plan?.status === 'Pending' && e.plan.destructive) destructions.push({ unit: e.unit, planId: e.plan.id, what: destroyedBy(await view(e.plan.id)) });
        }
        return show(confirmApproveAllPage(detail, destructions, viewer));
      }
    }
    if (second === 'plans' && third && !fourth) {
      const [detail, status] = await Promise.all([facade.getPlan(third), facade.status()]);
      const plan = masked(detail);
      return show(planPage(plan, await view(plan.plan.id), masked(status.units.find((u) => u.name === plan.plan.unit)), viewer));
    }
    if (second === 'plans' && third && fourth === 'items' && path.length === 5) {
      const item = findItem(await view(third), path[4]!);
      if (!item) throw notFound(url);
      return sendHtml(req, res, 200, item.body());
    }
    if (second === 'unit' && !third) {
      const name = param(url, 'name');
      const unit = name ? (await facade.status()).units.find((u) => u.name === name) : undefined;
      if (!name || !unit) throw new HttpError(404, 'E_UNIT_NOT_FOUND', `no unit ${name ?? '(none named)'}`, 'the overview lists every unit');
      const [plans, history, outputs] = await Promise.all([facade.listPlans({ unit: name, limit: 50 }), facade.history({ unit: name, limit: 50 }), options.outputs?.(name)]);
      return show(unitPage(masked(unit), masked(plans), masked(history), outputs && maskedOutputs(outputs), viewer));
    }
    if (second === 'source' && !third) {
      const [status, changeSets, history] = await Promise.all([facade.status(), facade.listChangeSets(), facade.history({ limit: 200 })]);
      const sourceEvents = history.filter((e) => e.unit === null && (e.type === 'source-stalled' || e.type === 'definition-invalid' || e.type === 'sync-requested' || e.type === 'rewrite-allowed'));
      return show(sourcePage(masked(status.source), masked(changeSets), masked(sourceEvents), viewer));
    }
    if ((second === 'history' || second === 'audit') && !third) {
      const before = positive(param(url, 'before'));
      const unit = second === 'history' ? param(url, 'unit') : undefined;
      const page = { limit: PAGE_SIZE, ...(before !== undefined ? { before } : {}) };
      const list = second === 'audit' ? await access.audit(page) : await facade.history({ ...page, ...(unit ? { unit } : {}) });
      return show(eventsPage(second, masked(list), { ...(unit ? { unit } : {}), limit: PAGE_SIZE }, viewer));
    }
    if (second === 'events' && !third) {
      const credential = session.credential;
      return events.listen(res, param(url, 'since'), async () => (await current(req).catch(() => undefined)) !== undefined && (!credential || sessions.get(req) !== undefined));
    }
    throw notFound(url);
  }

  async function post(res: ServerResponse, url: URL, path: string[], form: URLSearchParams, actor: Actor): Promise<void> {
    const [first, second, third, fourth] = path;
    if (first !== 'ui' || !third || path.length !== 4) throw notFound(url);
    if (second === 'plans' && fourth === 'approve') {
      requireRole(actor, 'approver', 'approve plans');
      await facade.approve(third, actor);
      return redirect(res, planHref(third));
    }
    if (second === 'plans' && fourth === 'reject') {
      requireRole(actor, 'approver', 'reject plans');
      const reason = (form.get('reason') ?? '').trim();
      if (reason.length > MAX_REASON_LENGTH) throw new HttpError(400, 'E_BAD_REQUEST', `reason is longer than ${MAX_REASON_LENGTH} characters`);
      await facade.reject(third, actor, reason || undefined);
      return redirect(res, planHref(third));
    }
    if (second === 'changesets' && fourth === 'approve') {
      requireRole(actor, 'approver', 'approve change sets');
      const id = await resolveChangeSetId(facade, third);
      await facade.approveChangeSet(id, actor);
      return redirect(res, changeSetHref(id));
    }
    throw notFound(url);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const asset = ASSETS[url.pathname];
    if (asset && method === 'GET') return sendAsset(req, res, assetBody(asset.file), asset.type);
    if (url.pathname.startsWith('/auth/oidc/')) {
      if (options.extraRoutes && (await options.extraRoutes(req, res, sessions))) return;
      throw notFound(url);
    }
    if (url.pathname === '/login') {
      if (method === 'POST') return login(req, res);
      if (method === 'GET') return sendHtml(req, res, 200, loginPage({ next: safeNext(param(url, 'next')), oidc: options.oidc === true }));
    }
    const who = await current(req);
    if (!who) {
      if (method === 'GET' && !url.pathname.startsWith('/ui/events') && !url.pathname.includes('/items/')) return redirect(res, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
      throw new UnauthorizedError('not logged in, or the session ended', { hint: 'log in again at /login' });
    }
    const { session, actor } = who;
    const viewer: Viewer = { actor: actor.name, role: actor.role, ...(actor.units ? { units: actor.units } : {}), csrf: session.csrf };
    const path = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    if (method === 'GET') return get(req, res, url, path, viewer, session, actor);
    if (method !== 'POST') throw new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`, 'use GET or POST', { Allow: 'GET, POST' });
    // Every state-changing request: from this origin, with the session's CSRF token (form field or header).
    if (!sameOrigin(req)) throw forbidden('the request did not come from this site');
    const form = await readForm(req);
    if (!csrfMatches(session, header(req, 'x-csrf-token') ?? form.get('csrf') ?? undefined)) throw forbidden('the form is stale or forged (no valid CSRF token)');
    if (url.pathname === '/logout') {
      sessions.end(req, res);
      return redirect(res, '/login');
    }
    return post(res, url, path, form, actor);
  }

  return {
    sessions,
    async handle(req, res) {
      try {
        await route(req, res);
      } catch (error) {
        const typed = error instanceof PlumblineError ? error : asPlumblineError(error);
        const status = error instanceof PlumblineError ? statusOf(error) : 500;
        if (status >= 500) log.error({ err: error, url: req.url }, 'ui request failed');
        if (status === 403) log.warn({ url: req.url, remote: remoteAddress(req.socket.remoteAddress), code: typed.code }, 'ui request refused');
        if (res.headersSent) {
          res.end();
          return;
        }
        const who = await current(req).catch(() => undefined);
        const viewer = who && { actor: who.actor.name, role: who.actor.role, csrf: who.session.csrf };
        const message = status >= 500 && !(error instanceof PlumblineError) ? 'internal error: see the daemon log' : typed.message;
        sendHtml(req, res, status, errorPage(status, message, typed.hint, viewer), error instanceof HttpError ? error.headers : {});
      }
    },
    async apiActor(req) {
      if (!req.headers.cookie) return undefined;
      const who = await current(req);
      if (!who) return undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        if (!sameOrigin(req) || !csrfMatches(who.session, header(req, 'x-csrf-token'))) {
          throw forbidden('a request made with the session cookie must come from this site and carry the X-CSRF-Token header');
        }
      }
      return who.actor;
    },
    close() {
      events.close();
    },
  };
}

function masked<T>(value: T): T {
  return secrets.maskDeep(value, RECORD_IDENTIFIERS);
}

function maskedOutputs(outputs: Record<string, StoredOutput>): Record<string, StoredOutput> {
  return Object.fromEntries(Object.entries(outputs).map(([name, o]) => [name, o.sensitive ? { value: null, sensitive: true } : { value: masked(o.value), sensitive: false }]));
}

function forbidden(why: string): ForbiddenError {
  return new ForbiddenError(`refused: ${why}`, { hint: 'reload the page and try again from it' });
}

function notFound(url: URL): HttpError {
  return new HttpError(404, 'E_NOT_FOUND', `no page ${url.pathname}`, 'start from the overview');
}

function param(url: URL, name: string): string | undefined {
  const value = url.searchParams.get(name)?.trim();
  return value ? value : undefined;
}

function positive(text: string | undefined): number | undefined {
  return text && /^[1-9][0-9]{0,11}$/.test(text) ? Number(text) : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Only a path of this site: never another origin (`//evil`, `https://...`). */
function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

