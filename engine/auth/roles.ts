import picomatch from 'picomatch';
import { ForbiddenError } from './errors.ts';
import { ROLES, type Actor, type Role } from './types.ts';

/**
 * What a role allows. viewer: every read. approver: also the decisions on
 * units (approve, reject, sync, drift checks), on the units its globs match.
 * admin: also tokens and accepting a rewritten history. The route table of
 * the API says which role each route needs; the engine checks the units,
 * inside the transaction that makes the decision, where it knows them.
 */

export function hasRole(actor: Pick<Actor, 'role'>, need: Role): boolean {
  return ROLES.indexOf(actor.role) >= ROLES.indexOf(need);
}

/** Throws E_FORBIDDEN naming the role `action` needs. */
export function requireRole(actor: Actor, need: Role, action: string): void {
  if (hasRole(actor, need)) return;
  throw new ForbiddenError(`token ${actor.name} (${actor.role}) may not ${action}: that needs the ${need} role`, {
    hint: `use a token with the ${need} role; an admin creates one with: plumbline token create NAME --role ${need}`,
    details: { need },
  });
}

/** Whether the actor may decide on `unit` (its globs match it, or it has none). */
export function mayDecideOn(actor: Pick<Actor, 'units'>, unit: string): boolean {
  return unitsOutside(actor, [unit]).length === 0;
}

/** The units of `units` the actor's globs do not match. */
export function unitsOutside(actor: Pick<Actor, 'units'>, units: readonly string[]): string[] {
  if (!actor.units) return [];
  // A unit name may hold `/` (prod/vpc): `prod/*` matches it, `*` only names without one.
  const matches = picomatch([...actor.units], { dot: true });
  return units.filter((unit) => !matches(unit));
}

/** Throws E_FORBIDDEN naming the units of `units` the actor may not decide on. */
export function requireUnits(actor: Actor, units: readonly string[], action: string): void {
  const outside = unitsOutside(actor, units);
  if (outside.length === 0) return;
  const shown = outside.length > 10 ? `${outside.slice(0, 10).join(', ')} and ${outside.length - 10} more` : outside.join(', ');
  throw new ForbiddenError(`token ${actor.name} may ${action} only on units matching ${actor.units!.join(', ')}; not on ${shown}`, {
    hint: 'ask an admin for a token whose --units match these units too',
    details: { units: outside },
  });
}
