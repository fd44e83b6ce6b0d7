import { type SecretRegistry, secrets as globalSecrets } from '../../engine/provider-kit.ts';
import type { NormalizedPlan, ResourceChangeView } from './normalize.ts';

/** More changed attributes than this on one object are counted, not listed. */
const MAX_PATHS = 10;

/**
 * Short names of what a plan changes, one per object or output:
 * `aws_instance.web: tags.Name`, `terraform_data.x (replace)`,
 * `output.vpc_id (update)`. A drift that keeps coming back is named by these,
 * so they depend only on what changes, never on values.
 */
export function changeNames(plan: NormalizedPlan, registry: SecretRegistry = globalSecrets): string[] {
  const names = plan.resources.map(resourceName);
  for (const output of plan.outputs) names.push(`output.${output.name} (${output.action})`);
  return names.map((name) => registry.maskText(name));
}

function resourceName(r: ResourceChangeView): string {
  const subject = r.deposed ? `${r.address} (deposed ${r.deposed})` : r.address;
  if (r.action === 'update') {
    const paths = outermost(r.attributes.map((a) => a.path));
    if (paths.length === 0) return `${subject} (update)`;
    const listed = paths.slice(0, MAX_PATHS).join(', ');
    return paths.length > MAX_PATHS ? `${subject}: ${listed} and ${paths.length - MAX_PATHS} more` : `${subject}: ${listed}`;
  }
  if (r.action !== 'none') return `${subject} (${r.action})`;
  if (r.previousAddress) return `${subject} (moved from ${r.previousAddress})`;
  return `${subject} (import)`;
}

/**
 * The paths not below another one of the list, in order: an attribute that
 * becomes unknown is named once, not with every leaf its old value had.
 */
function outermost(paths: readonly string[]): string[] {
  const all = new Set(paths);
  const kept = new Set<string>();
  for (const path of paths) {
    if (!ancestors(path).some((a) => all.has(a))) kept.add(path);
  }
  return [...kept];
}

/** `a.b[0].c` → `a`, `a.b`, `a.b[0]`. */
function ancestors(path: string): string[] {
  const found: string[] = [];
  for (let i = 1; i < path.length; i++) {
    if (path[i] === '.' || path[i] === '[') found.push(path.slice(0, i));
  }
  return found;
}
