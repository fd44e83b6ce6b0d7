import type { ApiClient } from '../api/client.ts';
import { DEFAULT_ACTOR } from '../api/server.ts';
import { ConflictError } from '../errors.ts';
import type { PlanRecord, PlanStatus } from '../model.ts';
import { formatTime } from './output.ts';

/**
 * `approve` and `reject` succeed only when this call decided the plan. The
 * engine answers an approval of a plan already approved (or applying, or
 * applied) and a rejection of a plan already rejected with the plan as it is,
 * as if it had just decided it; a person must learn instead that nothing
 * happened. The CLI reads the plan first and compares the answer with what it
 * asked, so both an earlier decision and one made by someone else in between
 * are reported, exit code 1.
 */
export type Verb = 'approve' | 'reject';

/** The states a decision leaves a plan in: asking again in one of them decides nothing. */
const DECIDED: Record<Verb, readonly PlanStatus[]> = {
  approve: ['Approved', 'Applying', 'Applied'],
  reject: ['Rejected'],
};

const PAST: Record<Verb, string> = { approve: 'approved', reject: 'rejected' };

export async function decidePlan(client: ApiClient, verb: Verb, id: string, by: string | undefined, reason?: string): Promise<PlanRecord> {
  const before = (await client.getPlan(id)).plan;
  if (DECIDED[verb].includes(before.status)) throw nothingDecided(verb, before);
  const after = verb === 'approve' ? await client.approve(id, by) : await client.reject(id, by, reason);
  // A decision of this call is a new one, in the asked state, by the actor it sent.
  const decidedNow =
    DECIDED[verb].includes(after.status) && after.decidedBy === (by?.trim() || DEFAULT_ACTOR) && after.decidedAt !== undefined && after.decidedAt !== before.decidedAt;
  // Otherwise someone else decided between the read and the request, and the engine answered with their decision.
  if (!decidedNow) throw nothingDecided(verb, after);
  return after;
}

function nothingDecided(verb: Verb, plan: PlanRecord): ConflictError {
  const decision = [plan.decidedBy ? `by ${plan.decidedBy}` : '', plan.decidedAt ? `at ${formatTime(plan.decidedAt)}` : ''].filter(Boolean).join(' ');
  const how = decision ? ` (${plan.status === 'Approved' || plan.status === 'Rejected' ? '' : 'decided '}${decision})` : '';
  return new ConflictError('E_PLAN_NOT_PENDING', `plan ${plan.id} is already ${plan.status.toLowerCase()}${how}: nothing was ${PAST[verb]}`, {
    hint: `only a Pending plan can be ${PAST[verb]}; see the unit's plans with: plumbline plans --unit ${plan.unit}`,
  });
}
