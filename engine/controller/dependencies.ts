import type { UnitDefinition } from '../definitions/types.ts';
import type { Phase, UnitStatus } from '../model.ts';

/** Phases in which a unit's applied outputs are current and dependants may plan. */
const SETTLED: readonly Phase[] = ['InSync', 'Drifted'];
/** Phases in which a unit cannot feed its dependants until someone acts. */
const BROKEN: readonly Phase[] = ['Failed', 'Stalled', 'Blocked'];

export interface Readiness {
  /** Every dependency is settled: the unit may plan now. */
  ready: boolean;
  /** Dependencies still planning, applying or waiting for approval. */
  waitingFor: Array<{ unit: string; phase: string }>;
  /** Dependencies that failed, were rejected, are invalid or themselves blocked. */
  blockedBy: Array<{ unit: string; phase: string; reason: string }>;
}

/**
 * May `unit` plan now? A dependant is planned only against the applied outputs
 * of its dependencies, so every dependency must be settled; a broken one blocks
 * it, one in motion makes it wait.
 */
export function readiness(
  unit: UnitDefinition,
  statusOf: (name: string) => UnitStatus | undefined,
  defined: (name: string) => boolean,
  /** The newest revision scheduled for a unit: settled means applied at that one. */
  desiredOf: (name: string) => string | undefined = () => undefined,
): Readiness {
  const waitingFor: Readiness['waitingFor'] = [];
  const blockedBy: Readiness['blockedBy'] = [];
  for (const dep of unit.dependsOn) {
    const status = statusOf(dep);
    if (!defined(dep)) blockedBy.push({ unit: dep, phase: status?.phase ?? 'Missing', reason: status?.reason ?? 'NotDefined' });
    else if (!status) waitingFor.push({ unit: dep, phase: 'Pending' });
    else if (SETTLED.includes(status.phase) && (desiredOf(dep) ?? status.lastAppliedRevision) === status.lastAppliedRevision) continue;
    else if (SETTLED.includes(status.phase)) waitingFor.push({ unit: dep, phase: 'Queued' });
    else if (BROKEN.includes(status.phase)) blockedBy.push({ unit: dep, phase: status.phase, reason: status.reason });
    else waitingFor.push({ unit: dep, phase: status.phase });
  }
  return { ready: waitingFor.length === 0 && blockedBy.length === 0, waitingFor, blockedBy };
}

export function describeReadiness(r: Readiness): string {
  if (r.blockedBy.length > 0) return `blocked by ${r.blockedBy.map((b) => `${b.unit} (${b.phase}: ${b.reason})`).join(', ')}`;
  return `waits for ${r.waitingFor.map((w) => `${w.unit} (${w.phase})`).join(', ')}`;
}

/** Units that list `name` in their dependsOn. */
export function dependantsOf(name: string, units: Iterable<UnitDefinition>): UnitDefinition[] {
  return [...units].filter((u) => u.dependsOn.includes(name));
}

/** Every unit downstream of `names`, nearest first. */
export function downstreamOf(names: readonly string[], units: readonly UnitDefinition[]): string[] {
  const seen = new Set(names);
  const order: string[] = [];
  let frontier = [...names];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const name of frontier) {
      for (const d of dependantsOf(name, units)) {
        if (seen.has(d.name)) continue;
        seen.add(d.name);
        next.push(d.name);
      }
    }
    frontier = next.sort();
    order.push(...frontier);
  }
  return order;
}
