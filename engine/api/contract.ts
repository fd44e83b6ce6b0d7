import type { ChangeSet, HistoryEvent, PlanRecord, SourceStatus, UnitStatus } from '../model.ts';
import type { SandboxStatus } from '../sandbox/types.ts';
import type { ChangeSetDetail } from '../controller/change-sets.ts';
import type { UnitReads } from '../definitions/reads.ts';

export type { UnitReads } from '../definitions/reads.ts';

export type { ChangeSetDetail } from '../controller/change-sets.ts';

/**
 * What the daemon offers its API. The HTTP server maps these one to one onto
 * routes; errors thrown are PlumblineErrors (NotFoundError -> 404,
 * ConflictError -> 409, ValidationError -> 400, others -> 500).
 */
export interface EngineFacade {
  status(): Promise<StatusAnswer>;
  /** Newest first, a page at a time: `before` is the last plan id of the previous page. */
  listPlans(filter?: { unit?: string; limit?: number; before?: string }): Promise<PlanRecord[]>;
  getPlan(id: string): Promise<PlanDetail>;
  approve(id: string, by: string): Promise<PlanRecord>;
  reject(id: string, by: string, reason?: string): Promise<PlanRecord>;
  /** Newest first, a page at a time: `before` is the last sequence number of the previous page. */
  history(filter?: { unit?: string; limit?: number; before?: number }): Promise<HistoryEvent[]>;
  /** Poll now; with `unit`, also plan that unit again at the current commit. */
  sync(options: { allowRewrite: boolean; unit?: string }): Promise<SyncAnswer>;
  metrics(): Promise<MetricsAnswer>;
  listChangeSets(): Promise<ChangeSet[]>;
  getChangeSet(id: string): Promise<ChangeSetDetail>;
  /** Approve every pending plan of the set and pre-approve its later non-destructive plans. */
  approveChangeSet(id: string, by: string): Promise<ChangeSetDetail>;
  /** Run drift checks now: of one unit, or of every unit that can be checked. */
  drift(options: { unit?: string }): Promise<DriftAnswer>;
  /** What a unit reads in the repository: a commit touching any of it plans the unit. */
  why(unit: string): Promise<UnitReads>;
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

/** Routes, all under the bearer token. */
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
} as const;
