import type { PlanDetail, StatusAnswer } from '../engine/api/contract.ts';
import { startApiServer, type ApiServer } from '../engine/api/server.ts';
import type { AccessControl } from '../engine/auth/access.ts';
import { UnauthorizedError } from '../engine/auth/errors.ts';
import type { Actor } from '../engine/auth/types.ts';
import { silentLogger } from '../engine/log.ts';
import type { PlanRecord, UnitStatus } from '../engine/model.ts';
import { createUi } from '../engine/ui/ui.ts';
import { createFakeEngine, REV_B } from './fake-engine.ts';

/**
 * A large fleet for the review UI's tests and bench: the fake engine with
 * `units` units and one pending Terraform plan (`big-plan`) of `resources`
 * resources, each with a few changed attributes in the normalized plan's
 * shape, served by the real API server and UI. Tokens: `approver-token`
 * (alice, approver) and `viewer-token` (dana, viewer).
 */

export const BIG_PLAN = 'big-plan';

const TOKENS: Record<string, Actor> = {
  'approver-token': { name: 'alice', role: 'approver' },
  'viewer-token': { name: 'dana', role: 'viewer' },
};

export interface Fleet {
  server: ApiServer;
  close(): Promise<void>;
}

export async function startFleet(size: { units: number; resources: number }, options: { secret?: string } = {}): Promise<Fleet> {
  const engine = createFakeEngine();
  const base = await engine.status();
  const units: UnitStatus[] = Array.from({ length: size.units }, (_, i) => ({
    name: `team-${i % 20}/stack-${i}`,
    kind: i % 10 === 0 ? 'ansible' : 'terraform',
    path: `stacks/team-${i % 20}/stack-${i}`,
    phase: i === 0 ? 'AwaitingApproval' : i % 50 === 0 ? 'Drifted' : 'InSync',
    reason: i === 0 ? 'ApprovalRequired' : 'Applied',
    message: i === 0 ? `plan ${BIG_PLAN} waits for approval` : 'applied',
    lastAttemptedRevision: REV_B,
    lastAppliedRevision: REV_B,
    planId: i === 0 ? BIG_PLAN : `stack-${i}-plan`,
    updatedAt: '2024-05-01T10:00:00.000Z',
    ...(i % 10 === 0 ? { hosts: [{ name: 'web-1', state: 'ok' as const }, { name: 'web-2', state: 'changed' as const }] } : {}),
  }));
  const plan: PlanRecord = {
    id: BIG_PLAN,
    unit: units[0]!.name,
    kind: 'terraform',
    revision: REV_B,
    status: 'Pending',
    summary: { add: size.resources / 2, change: size.resources / 2 - 1, destroy: 1, replace: 0 },
    hasChanges: true,
    destructive: true,
    approval: 'auto-unless-destroy',
    applyAt: null,
    createdAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-01T10:00:00.000Z',
    inputsHash: 'h',
    warnings: ['Warning: a deprecated argument'],
  };
  const document = {
    resources: Array.from({ length: size.resources }, (_, i) => ({
      address: `module.zone_${i % 25}.aws_route53_record.record_${i}`,
      module: `module.zone_${i % 25}`,
      mode: 'managed',
      type: 'aws_route53_record',
      name: `record_${i}`,
      provider: 'registry.terraform.io/hashicorp/aws',
      action: i === 0 ? 'delete' : i % 2 ? 'update' : 'create',
      actions: [i === 0 ? 'delete' : i % 2 ? 'update' : 'create'],
      attributes: [
        { path: 'name', ...(i % 2 ? { before: `old-${i}.example.com` } : {}), after: `host-${i}.example.com` },
        { path: 'ttl', before: 300, after: 60 },
        { path: 'records[0]', after: `10.0.${Math.floor(i / 250)}.${i % 250}` },
        { path: 'tags.Owner', before: 'team-a', after: options.secret && i === 1 ? options.secret : 'team-b' },
      ],
    })),
    outputs: [],
    summary: plan.summary,
    hasChanges: true,
    destructive: true,
  };
  const status: StatusAnswer = { ...base, units };
  const facade = {
    ...engine,
    status: async () => status,
    getPlan: async (id: string): Promise<PlanDetail> => (id === BIG_PLAN ? { plan, rendered: '(large plan)', document } : engine.getPlan(id)),
  };
  const access = {
    async authenticate(header: string | undefined, remote: string | undefined): Promise<Actor> {
      const actor = TOKENS[header?.replace(/^Bearer /, '') ?? ''];
      if (!actor) throw new UnauthorizedError('missing or invalid bearer token');
      return { ...actor, ...(remote ? { remote } : {}) };
    },
    audit: async () => [],
  };
  const ui = createUi({ facade, access, log: silentLogger });
  // The UI reads authenticate and audit only; the API routes of tokens are not used here.
  const server = await startApiServer(facade, { host: '127.0.0.1', port: 0, access: access as unknown as AccessControl, ui, log: silentLogger });
  return { server, close: () => server.close() };
}
