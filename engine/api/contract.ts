import type { ChangeSet, HistoryEvent, PlanRecord, SourceStatus, UnitStatus } from '../model.ts';
import type { SandboxStatus } from '../sandbox/types.ts';
import type { ChangeSetDetail } from '../controller/change-sets.ts';
import type { PreviewState } from '../previews/types.ts';
import type { UnitReads } from '../definitions/reads.ts';
import type { Actor } from '../auth/types.ts';

export type { UnitReads } from '../definitions/reads.ts';

export type { ChangeSetDetail } from '../controller/change-sets.ts';

/**
 * What the daemon offers its API. The HTTP server maps these one to one onto
 * routes; errors thrown are PlumblineErrors (NotFoundError -> 404,
 * ConflictError -> 409, ValidationError -> 400, ForbiddenError -> 403,
 * others -> 500). A decision takes the actor the request authenticated as:
 * the engine checks the units it may decide on and records its name.
 */
export interface EngineFacade {
  status(): Promise<StatusAnswer>;
  /** Newest first, a page at a time: `before` is the last plan id of the previous page. */
  listPlans(filter?: { unit?: string; limit?: number; before?: string }): Promise<PlanRecord[]>;
  getPlan(id: string): Promise<PlanDetail>;
  approve(id: string, actor: Actor): Promise<PlanRecord>;
  reject(id: string, actor: Actor, reason?: string): Promise<PlanRecord>;
  /** Newest first, a page at a time: `before` is the last sequence number of the previous page. */
  history(filter?: { unit?: string; limit?: number; before?: number }): Promise<HistoryEvent[]>;
  /** Poll now; with `unit`, also plan that unit again at the current commit. `allowRewrite` takes an admin. */
  sync(options: { allowRewrite: boolean; unit?: string }, actor: Actor): Promise<SyncAnswer>;
  metrics(): Promise<MetricsAnswer>;
  listChangeSets(): Promise<ChangeSet[]>;
  getChangeSet(id: string): Promise<ChangeSetDetail>;
  /** Approve every pending plan of the set and pre-approve its later non-destructive plans. */
  approveChangeSet(id: string, actor: Actor): Promise<ChangeSetDetail>;
  /** Run drift checks now: of one unit, or of every unit that can be checked (and the actor may decide on). */
  drift(options: { unit?: string }, actor: Actor): Promise<DriftAnswer>;
  /** What a unit reads in the repository: a commit touching any of it plans the unit. */
  why(unit: string): Promise<UnitReads>;
  /** The daemons sharing the store: which leads, their heartbeats and the runs each holds. */
  cluster(): Promise<ClusterAnswer>;
  /** `GET /readyz`: the store answers and the source was fetched at least once. */
  ready(): Promise<boolean>;
  /** Merge-request previews (source.previews), by ref; one ref when asked. */
  listPreviews(ref?: string): Promise<PreviewsAnswer>;
}

/** `plumbline previews --json`. */
export interface PreviewsAnswer {
  previews: PreviewState[];
}

export interface DriftAnswer {
  scheduled: string[];
  skipped: Array<{ unit: string; why: string }>;
}

/** Change set ids (`cs-` and 12 hex digits) never look like plan ids (`unit-xxxxxxxx-xxxxxxxxxx`). */
export function isChangeSetId(id: string): boolean {
  return /^cs-[0-9a-f]{12}$/.test(id);
}

/**
 * A change set named by its id or a prefix of its commit (`cs-3f2a91c0`, the
 * 8 characters `status` prints, up to the whole commit). A plan id never
 * matches: it has a dash after its unit and after its commit part.
 */
export function isChangeSetRef(text: string): boolean {
  return /^cs-[0-9a-f]{1,40}$/i.test(text);
}

/** What the daemon has cost so far: how many processes of each tool it started, and polls. */
export interface MetricsAnswer {
  processes: Record<string, number>;
  polls: number;
  uptimeSeconds: number;
  memory: { rssBytes: number; heapUsedBytes: number };
  cpu: { userMicros: number; systemMicros: number };
}

export interface StatusAnswer {
  source: SourceStatus;
  units: UnitStatus[];
  /** Whether tool processes run sandboxed (bubblewrap), and why not. */
  sandbox?: SandboxStatus;
  /** Store records found damaged at start and moved aside (paths relative to the state directory). */
  damaged?: Array<{ file: string; movedTo: string; error: string }>;
}

export interface PlanDetail {
  plan: PlanRecord;
  /** Masked text rendering. */
  rendered: string;
  /** Masked normalized plan document. */
  document: unknown;
}

export interface SyncAnswer {
  revision: string | null;
  /** Units whose runs this sync scheduled. */
  scheduled: string[];
}

/** Routes under the bearer token (see server.ts for the role each needs). */
export const API_ROUTES = {
  status: 'GET /api/v1/status',
  plans: 'GET /api/v1/plans',
  plan: 'GET /api/v1/plans/:id',
  approve: 'POST /api/v1/plans/:id/approve',
  reject: 'POST /api/v1/plans/:id/reject',
  history: 'GET /api/v1/history',
  sync: 'POST /api/v1/sync',
  metrics: 'GET /api/v1/metrics',
  drift: 'POST /api/v1/drift',
  changeSets: 'GET /api/v1/changesets',
  changeSet: 'GET /api/v1/changesets/:id',
  approveChangeSet: 'POST /api/v1/changesets/:id/approve',
  why: 'GET /api/v1/why',
  cluster: 'GET /api/v1/cluster',
  healthz: 'GET /api/v1/healthz',
  tokens: 'GET /api/v1/tokens',
  createToken: 'POST /api/v1/tokens',
  revokeToken: 'POST /api/v1/tokens/:name/revoke',
  audit: 'GET /api/v1/audit',
  previews: 'GET /api/v1/previews',
} as const;

/** Routes that answer without a token: they reveal nothing but whether the daemon is up (and, unless protected, its metrics). */
export const PUBLIC_ROUTES = {
  healthz: 'GET /healthz',
  readyz: 'GET /readyz',
  metrics: 'GET /metrics',
} as const;

/** Forge webhooks: no token, the forge's signature instead (engine/forge/webhook.ts); off without forge.webhookSecretFile. */
export const GIT_HOOK_PATH = '/hooks/git';

export interface ClusterAnswer {
  members: Array<{
    name: string;
    leader: boolean;
    startedAt: string;
    heartbeatAt: string;
    /** Its claims lapsed: another member takes its runs up. */
    lapsed: boolean;
    concurrency: number;
    runs: Array<{ unit: string; kind: string; revision: string; planId?: string; leaseUntil?: string }>;
  }>;
}
