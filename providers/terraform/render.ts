import { type ChangeSummary, MASK, type SecretRegistry, secrets as globalSecrets } from '../../engine/provider-kit.ts';
import type { AttributeChange, NormalizedPlan, OutputChangeView, ResourceChangeView } from './normalize.ts';

/**
 * The text people read (`plumbline show`, the review page). It is made from the
 * normalized, masked plan only, never from Terraform's own human output, which
 * is unmasked and changes between releases.
 */

const SENSITIVE_TEXT = '(sensitive value)';
const UNKNOWN_TEXT = '(known after apply)';

export function renderPlan(plan: NormalizedPlan, registry: SecretRegistry = globalSecrets): string {
  const blocks: string[] = [];
  if (!plan.hasChanges) {
    blocks.push('No changes. The infrastructure matches the configuration.');
  } else {
    if (plan.resources.length > 0) {
      blocks.push('Plumbline will perform the following actions:');
      for (const resource of plan.resources) blocks.push(renderResource(resource));
    }
  }
  blocks.push(summaryLine(plan.summary));
  if (plan.outputs.length > 0) blocks.push(['Changes to Outputs:', ...renderOutputs(plan.outputs)].join('\n'));
  if (plan.warnings && plan.warnings.length > 0) blocks.push(['Warnings:', ...plan.warnings.map(renderWarning)].join('\n'));
  return registry.maskText(`${blocks.join('\n\n')}\n`);
}

export function summaryLine(summary: ChangeSummary): string {
  return `Plan: ${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy, ${summary.replace} to replace.`;
}

const HEADLINE: Record<ResourceChangeView['action'], string> = {
  create: 'will be created',
  update: 'will be updated in-place',
  delete: 'will be destroyed',
  replace: 'must be replaced',
  forget: 'will be removed from the state (the object itself is kept)',
  none: 'is unchanged',
};

const REASONS: Record<string, string> = {
  delete_because_no_resource_config: 'it is not in the configuration',
  delete_because_no_module: 'its module is not in the configuration',
  delete_because_wrong_repetition: 'the resource no longer uses count or for_each the same way',
  delete_because_count_index: 'its count index is out of range',
  delete_because_each_key: 'its for_each key is not in the map',
  delete_because_no_move_target: 'it was moved to an address that is not in the configuration',
  replace_because_tainted: 'it is tainted',
  replace_by_request: 'a replace was requested',
  replace_by_triggers: 'replace_triggered_by changed',
  replace_because_cannot_update: 'some changes cannot be made in place',
};

function renderResource(r: ResourceChangeView): string {
  const lines: string[] = [];
  const subject = r.deposed ? `${r.address} (deposed object ${r.deposed})` : r.address;
  if (r.previousAddress) lines.push(`  # ${r.previousAddress} has moved to ${r.address}`);
  if (r.importing) lines.push(`  # ${subject} will be imported`);
  if (r.action !== 'none') lines.push(`  # ${subject} ${HEADLINE[r.action]}`);
  if (r.reason && REASONS[r.reason]) lines.push(`  # (because ${REASONS[r.reason]})`);

  const symbol = blockSymbol(r);
  const keyword = r.mode === 'data' ? 'data' : 'resource';
  if (r.attributes.length === 0) {
    lines.push(`${symbol} ${keyword} ${JSON.stringify(r.type)} ${JSON.stringify(r.name)} {}`);
    return lines.join('\n');
  }
  lines.push(`${symbol} ${keyword} ${JSON.stringify(r.type)} ${JSON.stringify(r.name)} {`);
  const width = widest(r.attributes);
  for (const a of r.attributes) lines.push(`      ${renderAttribute(a, r.action, width)}`);
  lines.push('    }');
  return lines.join('\n');
}

function blockSymbol(r: ResourceChangeView): string {
  switch (r.action) {
    case 'create':
      return '  +';
    case 'update':
      return '  ~';
    case 'delete':
    case 'forget':
      return '  -';
    case 'replace':
      return r.actions[0] === 'create' ? '+/-' : '-/+';
    case 'none':
      return '   ';
  }
}

/**
 * `+ tags.Name = "web"`, `~ ports[1] = 443 -> 8443`, `- names[1] = "b" -> null`:
 * the sign says whether a value appears, changes or goes at that path.
 */
function renderAttribute(a: AttributeChange, action: ResourceChangeView['action'], width: number): string {
  const name = a.path.padEnd(width);
  const hasBefore = 'before' in a;
  const hasAfter = 'after' in a || a.unknown === true;
  const after = a.unknown ? UNKNOWN_TEXT : formatValue(a.after, a.sensitive);
  const forces = a.forcesReplacement ? ' # forces replacement' : '';
  if (action === 'create' || (!hasBefore && hasAfter)) return `+ ${name} = ${after}${forces}`;
  const before = formatValue(a.before, a.sensitive);
  if (action === 'delete' || !hasAfter) return `- ${name} = ${before} -> null${forces}`;
  return `~ ${name} = ${before} -> ${after}${forces}`;
}

function renderOutputs(outputs: readonly OutputChangeView[]): string[] {
  const width = outputs.reduce((w, o) => Math.max(w, o.name.length, widest(o.attributes)), 0);
  return outputs.flatMap((o) =>
    o.attributes.length > 0
      ? o.attributes.map((a) => `  ${renderAttribute(a, o.action, width)}`)
      : // Terraform says it changes but no value differs (its type does): say so, do not hide it.
        [`  ~ ${o.name.padEnd(width)} = ${o.sensitive ? SENSITIVE_TEXT : '(same value, new type)'}`],
  );
}

/** A warning's first line, then its detail indented under it. */
function renderWarning(warning: string): string {
  const [first, ...rest] = warning.split('\n');
  return [`  - ${first}`, ...rest.map((line) => (line === '' ? '' : `    ${line}`))].join('\n');
}

function widest(attributes: readonly AttributeChange[]): number {
  return attributes.reduce((w, a) => Math.max(w, a.path.length), 0);
}

/** Values as terraform writes them: strings quoted, `null`, `[]`, `{}`. */
function formatValue(value: unknown, sensitive: boolean | undefined): string {
  if (sensitive || value === MASK) return SENSITIVE_TEXT;
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (typeof value === 'object' && Object.keys(value).length === 0) return '{}';
  // Collections are diffed into their leaves before they get here; this is a fallback.
  return JSON.stringify(value);
}
