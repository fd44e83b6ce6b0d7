import { z } from 'zod';
import { ToolError } from '../../engine/provider-kit.ts';

/**
 * The parts of `terraform show -json <planfile>` (format 1.x) that Plumbline
 * reads. Objects are loose: fields this schema does not name are kept, so the
 * masked copy written to plan.json is still the whole document.
 */

/** Only this major version of the plan format is understood. */
export const SUPPORTED_FORMAT_MAJOR = 1;

export const ChangeActionSchema = z.enum(['no-op', 'create', 'read', 'update', 'delete', 'forget']);
export type ChangeAction = z.infer<typeof ChangeActionSchema>;

/** A path into a value: attribute names and map keys are strings, list indexes numbers. */
export const ValuePathSchema = z.array(z.union([z.string(), z.number()]));
export type ValuePath = z.infer<typeof ValuePathSchema>;

/**
 * One change (of a resource instance or an output). `after_unknown`,
 * `before_sensitive` and `after_sensitive` mirror the value's shape with `true`
 * at the unknown/sensitive places, or are a single boolean for the whole value.
 */
export const ChangeSchema = z.looseObject({
  actions: z.array(ChangeActionSchema).min(1),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  after_unknown: z.unknown().optional(),
  before_sensitive: z.unknown().optional(),
  after_sensitive: z.unknown().optional(),
  replace_paths: z.array(ValuePathSchema).optional(),
  importing: z.looseObject({ id: z.string().optional(), identity: z.unknown().optional() }).nullish(),
});
export type Change = z.infer<typeof ChangeSchema>;

export const ResourceChangeSchema = z.looseObject({
  address: z.string(),
  previous_address: z.string().optional(),
  module_address: z.string().optional(),
  mode: z.enum(['managed', 'data']),
  type: z.string(),
  name: z.string(),
  index: z.union([z.string(), z.number()]).optional(),
  deposed: z.string().optional(),
  provider_name: z.string(),
  change: ChangeSchema,
  action_reason: z.string().optional(),
});
export type ResourceChange = z.infer<typeof ResourceChangeSchema>;

export const StateResourceSchema = z.looseObject({
  address: z.string(),
  mode: z.string(),
  type: z.string(),
  name: z.string(),
  index: z.union([z.string(), z.number()]).optional(),
  provider_name: z.string().optional(),
  values: z.record(z.string(), z.unknown()).nullish(),
  sensitive_values: z.unknown().optional(),
});
export type StateResource = z.infer<typeof StateResourceSchema>;

export interface ModuleValues {
  address?: string | undefined;
  resources?: StateResource[] | undefined;
  child_modules?: ModuleValues[] | undefined;
  [key: string]: unknown;
}

export const ModuleValuesSchema: z.ZodType<ModuleValues> = z.looseObject({
  address: z.string().optional(),
  resources: z.array(StateResourceSchema).optional(),
  get child_modules() {
    return z.array(ModuleValuesSchema).optional();
  },
});

export const StateOutputSchema = z.looseObject({
  sensitive: z.boolean(),
  value: z.unknown().optional(),
  type: z.unknown().optional(),
});
export type StateOutput = z.infer<typeof StateOutputSchema>;

export const ValuesSchema = z.looseObject({
  outputs: z.record(z.string(), StateOutputSchema).optional(),
  root_module: ModuleValuesSchema.optional(),
});
export type Values = z.infer<typeof ValuesSchema>;

export const ConfigVariableSchema = z.looseObject({
  default: z.unknown().optional(),
  description: z.string().optional(),
  sensitive: z.boolean().optional(),
});

export const ConfigOutputSchema = z.looseObject({
  sensitive: z.boolean().optional(),
  expression: z.record(z.string(), z.unknown()).optional(),
});

export interface ConfigModule {
  outputs?: Record<string, z.infer<typeof ConfigOutputSchema>> | undefined;
  variables?: Record<string, z.infer<typeof ConfigVariableSchema>> | undefined;
  resources?: unknown[] | undefined;
  module_calls?: Record<string, ModuleCall> | undefined;
  [key: string]: unknown;
}

export interface ModuleCall {
  source?: string | undefined;
  expressions?: Record<string, unknown> | undefined;
  module?: ConfigModule | undefined;
  [key: string]: unknown;
}

export const ConfigModuleSchema: z.ZodType<ConfigModule> = z.looseObject({
  outputs: z.record(z.string(), ConfigOutputSchema).optional(),
  variables: z.record(z.string(), ConfigVariableSchema).optional(),
  resources: z.array(z.unknown()).optional(),
  get module_calls() {
    return z.record(z.string(), ModuleCallSchema).optional();
  },
});

export const ModuleCallSchema: z.ZodType<ModuleCall> = z.looseObject({
  source: z.string().optional(),
  expressions: z.record(z.string(), z.unknown()).optional(),
  get module() {
    return ConfigModuleSchema.optional();
  },
});

export const ProviderConfigSchema = z.looseObject({
  name: z.string(),
  full_name: z.string().optional(),
  expressions: z.record(z.string(), z.unknown()).optional(),
});

export const PlanJsonSchema = z.looseObject({
  format_version: z.string(),
  terraform_version: z.string().optional(),
  variables: z.record(z.string(), z.looseObject({ value: z.unknown().optional() })).optional(),
  planned_values: ValuesSchema.optional(),
  resource_drift: z.array(ResourceChangeSchema).optional(),
  resource_changes: z.array(ResourceChangeSchema).optional(),
  deferred_changes: z.array(z.looseObject({ reason: z.string().optional(), resource_change: ResourceChangeSchema })).optional(),
  output_changes: z.record(z.string(), ChangeSchema).optional(),
  prior_state: z
    .looseObject({
      format_version: z.string().optional(),
      terraform_version: z.string().optional(),
      values: ValuesSchema.optional(),
    })
    .optional(),
  configuration: z
    .looseObject({
      provider_config: z.record(z.string(), ProviderConfigSchema).optional(),
      root_module: ConfigModuleSchema.optional(),
    })
    .optional(),
  timestamp: z.string().optional(),
  applyable: z.boolean().optional(),
  complete: z.boolean().optional(),
  errored: z.boolean().optional(),
});
export type PlanJson = z.infer<typeof PlanJsonSchema>;

const FormatProbeSchema = z.looseObject({ format_version: z.string() });

/**
 * Parse and validate the text of `terraform show -json`. An unknown major
 * format version is refused before anything else is read: its fields may mean
 * something else.
 */
export function parsePlanJson(text: string): PlanJson {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw planFormatError('terraform show -json did not print JSON', error);
  }
  const probe = FormatProbeSchema.safeParse(data);
  if (!probe.success) throw planFormatError('the plan JSON has no format_version', probe.error);
  const major = Number(probe.data.format_version.split('.')[0]);
  if (!/^\d+\.\d+/.test(probe.data.format_version) || major !== SUPPORTED_FORMAT_MAJOR) {
    throw planFormatError(
      `unsupported plan JSON format_version ${JSON.stringify(probe.data.format_version)} (Plumbline reads ${SUPPORTED_FORMAT_MAJOR}.x)`,
    );
  }
  const parsed = PlanJsonSchema.safeParse(data);
  if (!parsed.success) {
    // Issue paths and expectations only: zod messages never quote the values.
    const where = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw planFormatError(`the plan JSON does not have the expected shape: ${where}`, parsed.error);
  }
  return parsed.data;
}

function planFormatError(message: string, cause?: unknown): ToolError {
  return new ToolError('E_PLAN_FORMAT', message, {
    retry: 'stalled',
    hint: 'use a Terraform release whose `show -json` plan format is 1.x (Terraform 1.x), or upgrade Plumbline',
    cause,
  });
}
