import type { UnitDefinition } from '../definitions/types.ts';
import type { ChangeSet, PlanRecord, UnitStatus } from '../model.ts';
import { topologicalOrder } from '../definitions/graph.ts';
import { downstreamOf, readiness } from './dependencies.ts';

/** One change set per commit: `cs-` and the first 12 characters of the commit. */
export function changeSetId(revision: string): string {
  return `cs-${revision.slice(0, 12)}`;
}

export interface ChangeSetEntry {
  unit: string;
  kind: string;
  phase: string;
  reason: string;
  message: string;
  /** The unit's newest plan in this change set, if it has one yet. */
  plan: PlanRecord | null;
  waitingFor: string[];
  blockedBy: string[];
  /** Not touched by the commit: planned again only if an upstream's outputs change. */
  downstream: boolean;
}

export interface ChangeSetDetail {
  changeSet: ChangeSet;
  /** Dependency order: what applies first comes first. */
  entries: ChangeSetEntry[];
  rendered: string;
}

/** The whole effect of a commit, in dependency order, for one reviewer's read. */
export function describeChangeSet(
  changeSet: ChangeSet,
  units: readonly UnitDefinition[],
  statusOf: (name: string) => UnitStatus | undefined,
  plansOf: (unit: string) => PlanRecord[],
): ChangeSetDetail {
  const members = new Set(changeSet.units);
  const downstream = downstreamOf(changeSet.units, units).filter((n) => !members.has(n));
  const involved = new Set([...members, ...downstream]);
  const ordered = topologicalOrder(units.filter((u) => involved.has(u.name)));
  const known = new Set(ordered.map((u) => u.name));
  const entries: ChangeSetEntry[] = ordered.map((unit) => {
    const status = statusOf(unit.name);
    const plan = plansOf(unit.name).find((p) => p.changeSet === changeSet.id) ?? null;
    const r = readiness(unit, statusOf, (n) => units.some((u) => u.name === n));
    return {
      unit: unit.name,
      kind: unit.kind,
      phase: status?.phase ?? 'Pending',
      reason: status?.reason ?? 'Pending',
      message: status?.message ?? '',
      plan,
      waitingFor: r.waitingFor.map((w) => w.unit),
      blockedBy: r.blockedBy.map((b) => b.unit),
      downstream: !members.has(unit.name),
    };
  });
  // Units of the set whose definition is gone still belong in the account.
  for (const name of changeSet.units) {
    if (known.has(name)) continue;
    const status = statusOf(name);
    entries.push({ unit: name, kind: status?.kind ?? 'unknown', phase: status?.phase ?? 'Pending', reason: status?.reason ?? '', message: status?.message ?? '', plan: null, waitingFor: [], blockedBy: [], downstream: false });
  }
  return { changeSet, entries, rendered: renderChangeSet(changeSet, entries) };
}

function renderChangeSet(changeSet: ChangeSet, entries: ChangeSetEntry[]): string {
  const lines = [
    `Change set ${changeSet.id} (commit ${changeSet.revision.slice(0, 8)}), ${changeSet.units.length} unit(s) set in motion${
      changeSet.approvedBy ? `, approved by ${changeSet.approvedBy}` : ''
    }`,
    '',
  ];
  entries.forEach((e, i) => {
    const summary = e.plan
      ? `plan ${e.plan.id} ${e.plan.status}: +${e.plan.summary.add} ~${e.plan.summary.change} -${e.plan.summary.destroy} ±${e.plan.summary.replace}`
      : e.downstream
        ? 'planned again only if an upstream output changes'
        : 'no plan yet';
    const relation =
      e.blockedBy.length > 0 ? ` (blocked by ${e.blockedBy.join(', ')})` : e.waitingFor.length > 0 ? ` (waits for ${e.waitingFor.join(', ')})` : '';
    lines.push(`${i + 1}. ${e.unit} [${e.kind}] ${e.phase}${relation}`);
    lines.push(`   ${summary}`);
  });
  return `${lines.join('\n')}\n`;
}
