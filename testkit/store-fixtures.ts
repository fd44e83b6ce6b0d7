import type { HistoryEvent, UnitStatus } from '../engine/model.ts';
import type { SqlStore } from '../engine/store/sql/sql-store.ts';
import type { StoredPlan } from '../engine/store/types.ts';

/** Records for store tests, complete and plausible, with what a test cares about overridden. */

export function unitStatus(name: string, overrides: Partial<UnitStatus> = {}): UnitStatus {
  return {
    name,
    kind: 'terraform',
    path: `stacks/${name}`,
    phase: 'InSync',
    reason: 'Applied',
    message: 'applied',
    lastAttemptedRevision: 'a'.repeat(40),
    lastAppliedRevision: 'a'.repeat(40),
    planId: null,
    updatedAt: new Date().toISOString(),
    ...overrides,
  };
}

export function storedPlan(id: string, overrides: Partial<StoredPlan> = {}): StoredPlan {
  const createdAt = overrides.createdAt ?? new Date().toISOString();
  return {
    id,
    runId: `run-${id}`,
    unit: 'web',
    kind: 'terraform',
    revision: 'b'.repeat(40),
    status: 'Applied',
    summary: { add: 1, change: 0, destroy: 0, replace: 0 },
    hasChanges: true,
    destructive: false,
    approval: 'auto',
    applyAt: null,
    createdAt,
    updatedAt: createdAt,
    inputsHash: 'c'.repeat(64),
    ...overrides,
  };
}

export const historyEvent = (unit: string | null, message: string, overrides: Partial<HistoryEvent> = {}) => ({
  type: 'planned' as const,
  unit,
  revision: null,
  planId: null,
  message,
  ...overrides,
});

/** One increment of the `counter` unit's message, with its history event, in one transaction. */
export async function increment(store: SqlStore): Promise<void> {
  await store.write(async (tx) => {
    const unit = await tx.getUnit('counter');
    const next = Number(unit!.message) + 1;
    await tx.putUnit({ ...unit!, message: String(next) });
    await tx.appendHistory(historyEvent('counter', `counter ${next}`));
  });
}

