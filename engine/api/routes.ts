import type { AccessControl, TokenRequest } from '../auth/access.ts';
import { isRole } from '../auth/tokens.ts';
import { ROLES, type Actor, type Role } from '../auth/types.ts';
import { resolveChangeSetId } from './change-set-ref.ts';
import { API_ROUTES, PUBLIC_ROUTES, type EngineFacade } from './contract.ts';
import { badRequest, Reply } from './http.ts';
import { checkFields, historyPage, limitQuery, optionalBoolean, optionalQuery, optionalString, optionalStrings, requiredString } from './request.ts';

/**
 * The API's routes, each with the role it needs: viewer for every read,
 * approver for the decisions on units (the engine checks the units), admin
 * for tokens. A route whose role is null answers without a token.
 */

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON object body (POST only; `{}` when empty). */
  body: Record<string, unknown>;
}

export interface Route {
  method: 'GET' | 'POST';
  /** Pattern as in API_ROUTES, `:name` segments capture. */
  name: string;
  segments: string[];
  /** The role the route needs; null: it answers without a token. */
  need: Role | null;
  /** What it does, as a 403 names it: `approve plans`. */
  action: string;
  /** `actor` is set on every route that needs a role. */
  handle(ctx: RequestContext, actor: Actor | undefined): Promise<unknown>;
}

export interface MetricsExposition {
  /** The Prometheus text format. */
  render(): Promise<{ contentType: string; text: string }>;
  /** `metrics.requireToken`: a viewer's token is needed to scrape. */
  requireToken: boolean;
}

export interface RouteDependencies {
  facade: EngineFacade;
  access: AccessControl;
  metrics?: MetricsExposition | undefined;
}

const MAX_REASON_LENGTH = 4000;
/** `by` is read for compatibility only: the actor is the token's name. */
const MAX_BY_LENGTH = 200;
const MAX_EXPIRES_LENGTH = 40;
const MAX_NAME_LENGTH = 200;

export function buildRoutes({ facade, access, metrics }: RouteDependencies): Route[] {
  const read = (spec: string, handle: (ctx: RequestContext, actor: Actor) => Promise<unknown>) => guarded(spec, 'viewer', 'read', handle);
  return [
    open(PUBLIC_ROUTES.healthz, async () => ({ ok: true })),
    open(PUBLIC_ROUTES.readyz, async () => ((await facade.ready()) ? { ready: true } : new Reply(503, { ready: false }))),
    ...(metrics ? [metrics.requireToken ? read(PUBLIC_ROUTES.metrics, () => scrape(metrics)) : open(PUBLIC_ROUTES.metrics, () => scrape(metrics))] : []),

    read(API_ROUTES.healthz, async () => ({ ok: true })),
    read(API_ROUTES.status, () => facade.status()),
    read(API_ROUTES.metrics, () => facade.metrics()),
    read(API_ROUTES.plans, async ({ query }) => {
      const unit = optionalQuery(query, 'unit');
      const before = optionalQuery(query, 'before');
      const limit = limitQuery(query);
      return facade.listPlans({ ...(unit !== undefined ? { unit } : {}), ...(before !== undefined ? { before } : {}), ...(limit !== undefined ? { limit } : {}) });
    }),
    read(API_ROUTES.plan, ({ params }) => facade.getPlan(params.id!)),
    read(API_ROUTES.changeSets, () => facade.listChangeSets()),
    read(API_ROUTES.previews, ({ query }) => facade.listPreviews(optionalQuery(query, 'ref'))),
    // A change set is named by its id or any unique prefix of it (`cs-` and the 8 characters `status` shows).
    read(API_ROUTES.changeSet, async ({ params }) => facade.getChangeSet(await resolveChangeSetId(facade, params.id!))),
    read(API_ROUTES.history, async ({ query }) => {
      const unit = optionalQuery(query, 'unit');
      return facade.history({ ...(unit !== undefined ? { unit } : {}), ...historyPage(query) });
    }),
    read(API_ROUTES.cluster, () => facade.cluster()),
    read(API_ROUTES.why, async ({ query }) => {
      const unit = optionalQuery(query, 'unit');
      if (unit === undefined) throw badRequest('name the unit: ?unit=NAME');
      return facade.why(unit);
    }),
    read(API_ROUTES.audit, async ({ query }) => access.audit(historyPage(query))),

    guarded(API_ROUTES.approve, 'approver', 'approve plans', async ({ params, body }, actor) => {
      checkFields(body, ['by']);
      ignoredBy(body);
      return facade.approve(params.id!, actor);
    }),
    guarded(API_ROUTES.approveChangeSet, 'approver', 'approve change sets', async ({ params, body }, actor) => {
      checkFields(body, ['by']);
      ignoredBy(body);
      return facade.approveChangeSet(await resolveChangeSetId(facade, params.id!), actor);
    }),
    guarded(API_ROUTES.reject, 'approver', 'reject plans', async ({ params, body }, actor) => {
      checkFields(body, ['by', 'reason']);
      ignoredBy(body);
      return facade.reject(params.id!, actor, optionalString(body, 'reason', MAX_REASON_LENGTH));
    }),
    // --allow-rewrite takes an admin: the engine checks it, with the units of --unit.
    guarded(API_ROUTES.sync, 'approver', 'sync', async ({ body }, actor) => {
      checkFields(body, ['allowRewrite', 'unit']);
      const allowRewrite = optionalBoolean(body, 'allowRewrite') ?? false;
      const unit = optionalString(body, 'unit', MAX_NAME_LENGTH);
      return facade.sync({ allowRewrite, ...(unit ? { unit } : {}) }, actor);
    }),
    guarded(API_ROUTES.drift, 'approver', 'start drift checks', async ({ body }, actor) => {
      checkFields(body, ['unit']);
      const unit = optionalString(body, 'unit', MAX_NAME_LENGTH);
      return facade.drift(unit ? { unit } : {}, actor);
    }),

    guarded(API_ROUTES.tokens, 'admin', 'list tokens', () => access.listTokens()),
    guarded(API_ROUTES.createToken, 'admin', 'create tokens', async ({ body }, actor) => access.createToken(tokenRequest(body), actor)),
    guarded(API_ROUTES.revokeToken, 'admin', 'revoke tokens', async ({ params, body }, actor) => {
      checkFields(body, []);
      return access.revokeToken(params.name!, actor);
    }),
  ];
}

function parse(spec: string): Pick<Route, 'method' | 'name' | 'segments'> {
  const [method, path] = spec.split(' ') as ['GET' | 'POST', string];
  return { method, name: spec, segments: path.split('/').filter(Boolean) };
}

function open(spec: string, handle: (ctx: RequestContext) => Promise<unknown>): Route {
  return { ...parse(spec), need: null, action: 'read', handle: (ctx) => handle(ctx) };
}

function guarded(spec: string, need: Role, action: string, handle: (ctx: RequestContext, actor: Actor) => Promise<unknown>): Route {
  return {
    ...parse(spec),
    need,
    action,
    handle: (ctx, actor) => {
      if (!actor) throw new Error(`${spec} reached without an actor`);
      return handle(ctx, actor);
    },
  };
}

async function scrape(metrics: MetricsExposition): Promise<Reply> {
  const { contentType, text } = await metrics.render();
  return new Reply(200, text, contentType);
}

/** Old clients send `by`: still a string if present, and never the actor. */
function ignoredBy(body: Record<string, unknown>): void {
  optionalString(body, 'by', MAX_BY_LENGTH);
}

function tokenRequest(body: Record<string, unknown>): TokenRequest {
  checkFields(body, ['name', 'role', 'units', 'expires']);
  const name = requiredString(body, 'name', MAX_NAME_LENGTH);
  const role = body.role;
  if (!isRole(role)) throw badRequest(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role ?? null)}`);
  const units = optionalStrings(body, 'units');
  const expires = optionalString(body, 'expires', MAX_EXPIRES_LENGTH);
  return { name, role, ...(units && units.length > 0 ? { units } : {}), ...(expires !== undefined ? { expires } : {}) };
}
