import type { ApprovalPolicy } from '../model.ts';

/** What to do with a fresh plan, given the unit's approval policy. */
export type PlanDecision =
  | { action: 'in-sync' }
  | { action: 'apply-now' }
  | { action: 'await-approval'; reason: 'ApprovalRequired'; message: string }
  | { action: 'review-window'; applyAt: Date };

export function decide(input: {
  hasChanges: boolean;
  destructive: boolean;
  approval: ApprovalPolicy;
  applyAfterMs: number | null;
  now: Date;
}): PlanDecision {
  if (!input.hasChanges) return { action: 'in-sync' };
  if (input.approval === 'manual') {
    return { action: 'await-approval', reason: 'ApprovalRequired', message: 'the unit is manual: approve the plan to apply it' };
  }
  if (input.approval === 'auto-unless-destroy' && input.destructive) {
    return {
      action: 'await-approval',
      reason: 'ApprovalRequired',
      message: 'the plan deletes or replaces something: approve it to apply (auto-unless-destroy)',
    };
  }
  if (input.applyAfterMs && input.applyAfterMs > 0) {
    return { action: 'review-window', applyAt: new Date(input.now.getTime() + input.applyAfterMs) };
  }
  return { action: 'apply-now' };
}
