import { randomUUID } from 'node:crypto';
import type { RunKind, RunRecord } from '../store/types.ts';

/** Retries of transient failures: 15 s, doubling, at most 10 minutes, ±10 % jitter. */
const FIRST_BACKOFF_MS = 15_000;
const MAX_BACKOFF_MS = 10 * 60_000;

/** The last run id's millisecond and its sequence within it, in this process. */
let lastMs = 0;
let sequence = 0;

/**
 * A run id that sorts as runs were made: the queue is read oldest first
 * (created_at, then id), and the runs one commit queues share their
 * millisecond; with random ids they ran in a random order. The random tail
 * keeps ids unique across members.
 */
function orderedRunId(now: number): string {
  sequence = now === lastMs ? sequence + 1 : 0;
  lastMs = now;
  return `${now.toString(16).padStart(12, '0')}-${sequence.toString(16).padStart(6, '0')}-${randomUUID()}`;
}

export function newRun(
  kind: RunKind,
  unit: string,
  revision: string,
  options: { planId?: string; changeSet?: string; reason?: string; attempt?: number; notBefore?: Date } = {},
): RunRecord {
  const now = new Date();
  return {
    id: orderedRunId(now.getTime()),
    unit,
    kind,
    revision,
    ...(options.planId ? { planId: options.planId } : {}),
    ...(options.changeSet ? { changeSet: options.changeSet } : {}),
    ...(options.reason ? { reason: options.reason } : {}),
    notBefore: (options.notBefore ?? now).toISOString(),
    state: 'queued',
    fence: 0,
    attempt: options.attempt ?? 0,
    createdAt: now.toISOString(),
  };
}

/** When the `attempt`-th retry (1-based) may start. */
export function retryAt(attempt: number, now = Date.now()): Date {
  const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, attempt - 1)) * (0.9 + Math.random() * 0.2);
  return new Date(now + delay);
}

/** Runs that plan a unit (and so supersede each other, newest wins). */
export const PLANNING_KINDS: readonly RunKind[] = ['plan', 'drift', 'destroy'];
