import { type SecretRegistry, secrets as globalSecrets } from '../../engine/provider-kit.ts';
import type { ModuleValues, PlanJson } from './plan-schema.ts';

/**
 * The addresses of the resources the unit manages once the plan is applied:
 * the managed resources of the plan's planned values, in child modules too
 * (`module.net.aws_subnet.this[0]`). Data sources are read, not managed, and
 * are left out; a destroy plan manages nothing. Listed when the unit's folder
 * is removed from the repository.
 */
export function managedAddresses(plan: PlanJson, registry: SecretRegistry = globalSecrets): string[] {
  const found: string[] = [];
  const visit = (module: ModuleValues | undefined): void => {
    for (const resource of module?.resources ?? []) if (resource.mode === 'managed') found.push(resource.address);
    for (const child of module?.child_modules ?? []) visit(child);
  };
  visit(plan.planned_values?.root_module);
  return found.map((address) => registry.maskText(address));
}
