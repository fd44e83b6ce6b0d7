import type { Guard } from '../definitions/types.ts';
import type { ApprovalPolicy } from '../model.ts';

/** What to do with a fresh plan, given the unit's approval policy. */
export type PlanDecision =
  | { action: 'in-sync' }
  | { action: 'apply-now' }
  | { action: 'await-approval'; reason: 'ApprovalRequired' | 'GuardExceeded'; message: string }
  | { action: 'review-window'; applyAt: Date };

export function decide(input: {
  hasChanges: boolean;
  destructive: boolean;
  approval: ApprovalPolicy;
  applyAfterMs: number | null;
  now: Date;
  /** Blast-radius limits, and what the plan would do against them. */
  guard?: Guard;
  destroys?: number;
  hostsChanged?: number;
}): PlanDecision {
  if (!input.hasChanges) return { action: 'in-sync' };
  const passed = guardPassed(input);
  if (passed) return { action: 'await-approval', reason: 'GuardExceeded', message: `${passed}: approve the plan to apply it, whatever the unit's approval policy` };
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

/** Which guard limit the plan passes, in words, or undefined. */
function guardPassed(input: { guard?: Guard; destroys?: number; hostsChanged?: number }): string | undefined {
  const { guard } = input;
  if (guard?.maxDestroy !== undefined && (input.destroys ?? 0) > guard.maxDestroy) {
    return `the plan destroys or replaces ${input.destroys}, more than guard.maxDestroy (${guard.maxDestroy})`;
  }
  if (guard?.maxHosts !== undefined && (input.hostsChanged ?? 0) > guard.maxHosts) {
    return `the plan changes ${input.hostsChanged} hosts, more than guard.maxHosts (${guard.maxHosts})`;
  }
  return undefined;
}
