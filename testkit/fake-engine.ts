/**
 * Test support for the API and CLI tests: a small in-memory EngineFacade and a
 * helper that serves it. The daemon's integration tests drive the real engine;
 * this only exercises the HTTP and CLI layers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineFacade, PlanDetail, StatusAnswer, SyncAnswer } from '../engine/api/contract.ts';
import type { MetricsExposition } from '../engine/api/routes.ts';
import { startApiServer } from '../engine/api/server.ts';
import { AccessControl } from '../engine/auth/access.ts';
import { openStore } from '../engine/store/open.ts';
import { ConflictError, NotFoundError, PlumblineError, ValidationError } from '../engine/errors.ts';
import { silentLogger, type Logger } from '../engine/log.ts';
import type { HistoryEvent, PlanRecord } from '../engine/model.ts';
import type { CliIO } from '../engine/cli/types.ts';

export const REV_A = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
export const REV_B = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';

function plan(id: string, unit: string, revision: string, status: PlanRecord['status']): PlanRecord {
  return {
    id,
    unit,
    kind: 'terraform',
    revision,
    status,
    summary: { add: 2, change: 1, destroy: 0, replace: 0 },
    hasChanges: true,
    destructive: false,
    approval: 'manual',
    applyAt: null,
    createdAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-01T10:00:00.000Z',
    inputsHash: 'h',
  };
}

export interface FakeEngine extends EngineFacade {
  plans: Map<string, PlanRecord>;
  rendered: Map<string, string>;
  calls: { method: string; args: unknown[] }[];
  /** Put a plan back to Pending, undecided. */
  undecide(id: string): void;
}

export function createFakeEngine(): FakeEngine {
  const plans = new Map<string, PlanRecord>([
    ['web-1', plan('web-1', 'web', REV_A, 'Superseded')],
    ['web-2', plan('web-2', 'web', REV_B, 'Pending')],
    ['db-1', plan('db-1', 'db', REV_B, 'Applied')],
  ]);
  const rendered = new Map<string, string>([
    ['web-2', '+ aws_instance.web\n    password = "hunter2-secret"\n'],
  ]);
  const events: HistoryEvent[] = [1, 2, 3, 4].map((seq) => ({
    seq,
    at: `2024-05-01T10:0${seq}:00.000Z`,
    type: 'planned',
    unit: seq % 2 ? 'web' : 'db',
    revision: REV_B,
    planId: null,
    message: `event ${seq}`,
  }));
  const calls: FakeEngine['calls'] = [];
  const record = (method: string, ...args: unknown[]): void => void calls.push({ method, args });

  const find = (id: string): PlanRecord => {
    const p = plans.get(id);
    if (!p) throw new NotFoundError('E_PLAN_NOT_FOUND', `no plan ${id}`, { hint: 'list plans with `plumbline plans`' });
    return p;
  };
  const decide = (id: string, by: string, status: 'Approved' | 'Rejected'): PlanRecord => {
    const p = find(id);
    // As the engine does: a decision already made is a conflict; an approved plan can still be rejected before it applies.
    if (p.status !== 'Pending' && !(status === 'Rejected' && p.status === 'Approved')) {
      throw new ConflictError('E_PLAN_NOT_PENDING', `plan ${id} is ${p.status}, only a Pending plan can be decided`, {
        hint: 'look for the newer plan of the unit with `plumbline plans`',
      });
    }
    const next = { ...p, status, decidedBy: by, decidedAt: new Date().toISOString() };
    plans.set(id, next);
    return next;
  };

  const changeSet = { id: 'cs-bbbbbbbbbbbb', revision: REV_B, createdAt: '2024-05-01T10:00:00.000Z', units: ['web'] };
  // Shares its first four characters with the first: `cs-bbbb` names both.
  const other = { id: 'cs-bbbbcccc0000', revision: `bbbbcccc0000${'0'.repeat(28)}`, createdAt: '2024-05-01T09:00:00.000Z', units: ['db', 'web'], approvedBy: 'carol' };
  const changeSets = [changeSet, other];
  return {
    plans,
    rendered,
    calls,
    undecide(id) {
      const { decidedBy: _by, decidedAt: _at, ...rest } = find(id);
      plans.set(id, { ...rest, status: 'Pending' });
    },
    async status(): Promise<StatusAnswer> {
      record('status');
      return {
        source: {
          url: 'file:///srv/infra.git',
          branch: 'main',
          phase: 'Ready',
          reason: 'Fetched',
          message: 'fetched',
          lastFetchedRevision: REV_B,
          lastReconciledRevision: REV_B,
          lastFetchAt: '2024-05-01T10:05:00.000Z',
          fetchCount: 3,
        },
        units: [
          {
            name: 'web',
            kind: 'terraform',
            path: 'stacks/web',
            phase: 'AwaitingApproval',
            reason: 'ApprovalRequired',
            message: 'plan web-2 waits for approval (token hunter2-secret)',
            lastAttemptedRevision: REV_B,
            lastAppliedRevision: REV_A,
            planId: 'web-2',
            updatedAt: '2024-05-01T10:05:00.000Z',
          },
          {
            name: 'db',
            kind: 'terraform',
            path: 'stacks/db',
            phase: 'InSync',
            reason: 'Applied',
            message: 'applied',
            lastAttemptedRevision: REV_B,
            lastAppliedRevision: REV_B,
            planId: 'db-1',
            updatedAt: '2024-05-01T10:05:00.000Z',
          },
        ],
      };
    },
    async listPlans(filter) {
      record('listPlans', filter);
      if (filter?.unit === 'boom') throw new Error('database exploded at /var/lib/secret/path');
      return [...plans.values()].filter((p) => !filter?.unit || p.unit === filter.unit);
    },
    async getPlan(id): Promise<PlanDetail> {
      record('getPlan', id);
      const p = find(id);
      return { plan: p, rendered: rendered.get(id) ?? '', document: { changes: [], secret: 'hunter2-secret' } };
    },
    async approve(id, actor) {
      record('approve', id, actor.name);
      return decide(id, actor.name, 'Approved');
    },
    async reject(id, actor, reason) {
      record('reject', id, actor.name, reason);
      return decide(id, actor.name, 'Rejected');
    },
    async history(filter) {
      record('history', filter);
      if (filter?.unit === 'stuck') {
        throw new PlumblineError('E_STORE_WRITE', 'the store is on a read-only filesystem', { retry: 'stalled', hint: 'remount the state folder read-write' });
      }
      if (filter?.unit === 'invalid') {
        throw new ValidationError([{ file: 'stacks/invalid/stack.yaml', line: 3, column: 5, message: 'unknown key "x"' }]);
      }
      const selected = events.filter((e) => !filter?.unit || e.unit === filter.unit);
      return filter?.limit ? selected.slice(-filter.limit) : selected;
    },
    async sync(options, actor): Promise<SyncAnswer> {
      record('sync', options, actor.name);
      return { revision: REV_B, scheduled: options.allowRewrite ? ['web', 'db'] : ['web'] };
    },
    async listPreviews(ref?: string) {
      record('listPreviews', ref ?? null);
      return { previews: [] };
    },
    async listChangeSets() {
      record('listChangeSets', {});
      return changeSets;
    },
    async getChangeSet(id: string) {
      record('getChangeSet', id);
      const found = changeSets.find((c) => c.id === id);
      if (!found) throw new NotFoundError('E_CHANGESET_NOT_FOUND', `no change set ${id}`);
      return { changeSet: found, entries: [], rendered: `Change set ${id}\n1. web [terraform] AwaitingApproval\n` };
    },
    async approveChangeSet(id, actor) {
      record('approveChangeSet', id, actor.name);
      const found = changeSets.find((c) => c.id === id);
      if (!found) throw new NotFoundError('E_CHANGESET_NOT_FOUND', `no change set ${id}`);
      return { changeSet: { ...found, approvedBy: actor.name }, entries: [], rendered: `Change set ${id}, approved by ${actor.name}\n` };
    },
    async drift(options, actor) {
      record('drift', options, actor.name);
      return { scheduled: options.unit ? [options.unit] : ['web'], skipped: options.unit ? [] : [{ unit: 'db', why: 'it is Applying' }] };
    },
    async cluster() {
      record('cluster', {});
      return {
        members: [
          { name: 'ctl-1', leader: true, startedAt: '2024-05-01T10:00:00.000Z', heartbeatAt: '2024-05-01T10:05:00.000Z', lapsed: false, concurrency: 4, runs: [{ unit: 'web', kind: 'apply', revision: REV_B, planId: 'web-2', leaseUntil: '2024-05-01T10:05:30.000Z' }] },
          { name: 'ctl-2', leader: false, startedAt: '2024-05-01T10:00:01.000Z', heartbeatAt: '2024-05-01T10:04:10.000Z', lapsed: true, concurrency: 4, runs: [] },
        ],
      };
    },
    async why(unit: string) {
      record('why', unit);
      if (unit !== 'web') throw new NotFoundError('E_UNIT_NOT_FOUND', `no unit ${unit}`, { hint: 'list units with: plumbline status' });
      return {
        unit,
        revision: 'a'.repeat(40),
        entries: [
          { path: 'inventories/web', why: 'the inventory folder' },
          { path: 'roles/nginx', why: 'role "nginx" of site.yml' },
        ],
        watch: ['shared/*.json'],
        notes: ['include_tasks "{{ os }}.yml" in roles/nginx/tasks/main.yml is built from a variable'],
      };
    },
    async ready() {
      return true;
    },
    async metrics() {
      record('metrics', {});
      return { processes: { git: 3 }, polls: 3, uptimeSeconds: 1, memory: { rssBytes: 1, heapUsedBytes: 1 }, cpu: { userMicros: 1, systemMicros: 1 } };
    },
  };
}

export const TEST_TOKEN = 'test-token-0123456789abcdef-0123456789';

export interface FakeServer {
  url: string;
  port: number;
  /** The tokens, on a real store of their own (SQLite in a temporary folder). */
  access: AccessControl;
  close(): Promise<void>;
}

/** The API on `engine`, TEST_TOKEN its bootstrap admin; `metrics` as the daemon passes them. */
export async function startFakeServer(engine: EngineFacade = createFakeEngine(), log: Logger = silentLogger, metrics?: MetricsExposition): Promise<FakeServer> {
  const dir = await mkdtemp(join(tmpdir(), 'plumbline-api-'));
  const store = await openStore({ stateDir: dir }, log);
  const access = new AccessControl(store, TEST_TOKEN);
  const server = await startApiServer(engine, { host: '127.0.0.1', port: 0, access, log, ...(metrics ? { metrics } : {}) });
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    access,
    close() {
      closing ??= (async () => {
        await server.close();
        await store.close();
        await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** A CliIO that keeps what the CLI prints; with `columns`, it stands for a terminal that wide. */
export function captureIO(columns?: number): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    columns,
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}
