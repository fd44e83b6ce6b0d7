import { MASK, type SecretRegistry, secrets as globalSecrets } from '../../engine/provider-kit.ts';
import type { ConfigModule, ModuleValues, PlanJson, ResourceChange, Values } from './plan-schema.ts';

/**
 * Structural masking of a Terraform plan. Every value the plan marks sensitive
 * (resource attributes, outputs, variables, sensitive variable defaults, module
 * arguments bound to sensitive variables, provider credentials) is registered
 * as a secret and replaced by MASK; the registry's text masking then runs over
 * the whole document as a catch-all, which also hides copies of a secret that
 * Terraform did not mark (a resource attribute derived from a sensitive one).
 */

/** Provider arguments whose string values are registered as secrets, not only masked. */
const SECRET_ARGUMENT = /secret|password|passwd|token|key|credential|private|cert|signature|auth/i;

/**
 * Mask `value` where `marks` says it is sensitive. `marks` mirrors the value:
 * `true` means everything below is sensitive. Sensitive values are reported to
 * `onSecret` before they are replaced; null stays null (it reveals nothing).
 */
export function maskSensitive(value: unknown, marks: unknown, onSecret: (value: unknown) => void = () => {}): unknown {
  if (marks === true) {
    if (value === null || value === undefined) return value;
    onSecret(value);
    return MASK;
  }
  if (Array.isArray(value) && Array.isArray(marks)) {
    return value.map((item, i) => maskSensitive(item, marks[i], onSecret));
  }
  if (isRecord(value) && isRecord(marks)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = maskSensitive(item, marks[key], onSecret);
    return out;
  }
  return value;
}

/** Does a sensitivity/unknown mark structure contain `true` anywhere? */
export function hasMark(marks: unknown): boolean {
  if (marks === true) return true;
  if (Array.isArray(marks)) return marks.some(hasMark);
  if (isRecord(marks)) return Object.values(marks).some(hasMark);
  return false;
}

/**
 * A masked deep copy of the plan, safe to store, serve and log. Registers every
 * sensitive value it finds in `registry` on the way: run it before building
 * anything else from the raw plan.
 */
export function maskPlan(plan: PlanJson, registry: SecretRegistry = globalSecrets): PlanJson {
  const add = (value: unknown): void => registry.add(value);
  const out: PlanJson = structuredClone(plan);
  const root = out.configuration?.root_module;

  // Root variables: the plan carries their values in clear.
  const sensitiveVariables = new Set(
    Object.entries(root?.variables ?? {})
      .filter(([, v]) => v.sensitive === true)
      .map(([name]) => name),
  );
  for (const [name, variable] of Object.entries(out.variables ?? {})) {
    if (sensitiveVariables.has(name)) variable.value = maskSensitive(variable.value, true, add);
  }

  if (root) maskConfigModule(root, add);
  for (const provider of Object.values(out.configuration?.provider_config ?? {})) {
    if (provider.expressions) provider.expressions = maskProviderExpressions(provider.expressions, add) as Record<string, unknown>;
  }

  if (out.planned_values) maskValues(out.planned_values, add);
  if (out.prior_state?.values) maskValues(out.prior_state.values, add);
  for (const change of out.resource_changes ?? []) maskResourceChange(change, add);
  for (const change of out.resource_drift ?? []) maskResourceChange(change, add);
  for (const deferred of out.deferred_changes ?? []) maskResourceChange(deferred.resource_change, add);
  for (const change of Object.values(out.output_changes ?? {})) {
    change.before = maskSensitive(change.before, change.before_sensitive, add);
    change.after = maskSensitive(change.after, change.after_sensitive, add);
  }

  return registry.maskDeep(out);
}

function maskResourceChange(resource: ResourceChange, add: (value: unknown) => void): void {
  const change = resource.change;
  change.before = maskSensitive(change.before, change.before_sensitive, add);
  change.after = maskSensitive(change.after, change.after_sensitive, add);
}

export function maskValues(values: Values, add: (value: unknown) => void): void {
  for (const output of Object.values(values.outputs ?? {})) {
    if (output.sensitive) output.value = maskSensitive(output.value, true, add);
  }
  if (values.root_module) maskModuleValues(values.root_module, add);
}

function maskModuleValues(module: ModuleValues, add: (value: unknown) => void): void {
  for (const resource of module.resources ?? []) {
    if (resource.values) resource.values = maskSensitive(resource.values, resource.sensitive_values, add) as Record<string, unknown>;
  }
  for (const child of module.child_modules ?? []) maskModuleValues(child, add);
}

/** Sensitive variable defaults, literal values of sensitive outputs, module arguments bound to sensitive variables. */
function maskConfigModule(module: ConfigModule, add: (value: unknown) => void): void {
  for (const variable of Object.values(module.variables ?? {})) {
    if (variable.sensitive === true && 'default' in variable) variable.default = maskSensitive(variable.default, true, add);
  }
  for (const output of Object.values(module.outputs ?? {})) {
    if (output.sensitive === true && output.expression) output.expression = maskConstants(output.expression, add) as Record<string, unknown>;
  }
  for (const call of Object.values(module.module_calls ?? {})) {
    const child = call.module;
    if (child && call.expressions) {
      for (const [name, expression] of Object.entries(call.expressions)) {
        if (child.variables?.[name]?.sensitive === true) call.expressions[name] = maskConstants(expression, add);
      }
    }
    if (child) maskConfigModule(child, add);
  }
}

/** Replace every `constant_value` below an expression (all of them are secret here). */
function maskConstants(expression: unknown, add: (value: unknown) => void): unknown {
  if (Array.isArray(expression)) return expression.map((e) => maskConstants(e, add));
  if (!isRecord(expression)) return expression;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(expression)) {
    out[key] = key === 'constant_value' ? maskSensitive(item, true, add) : maskConstants(item, add);
  }
  return out;
}

/**
 * Provider configurations hold credentials and the plan has no schema to say
 * which: every string constant is masked; those under a secret-looking argument
 * name are registered as secrets too (registering `region` would mask every
 * availability zone in the plan).
 */
function maskProviderExpressions(expressions: unknown, add: (value: unknown) => void, argument = ''): unknown {
  if (Array.isArray(expressions)) return expressions.map((e) => maskProviderExpressions(e, add, argument));
  if (!isRecord(expressions)) return expressions;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(expressions)) {
    if (key === 'constant_value') {
      const secret = SECRET_ARGUMENT.test(argument);
      out[key] = maskStrings(item, secret ? add : () => {});
    } else {
      out[key] = maskProviderExpressions(item, add, key === 'references' ? argument : key);
    }
  }
  return out;
}

function maskStrings(value: unknown, add: (value: unknown) => void): unknown {
  if (typeof value === 'string') {
    add(value);
    return MASK;
  }
  if (Array.isArray(value)) return value.map((v) => maskStrings(v, add));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskStrings(v, add)]));
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
