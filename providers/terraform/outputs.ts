import { z } from 'zod';
import { type OutputValue, type SecretRegistry, secrets as globalSecrets, ToolError } from '../../engine/provider-kit.ts';
import type { UiMessage } from './diagnostics.ts';
import type { PlanJson } from './plan-schema.ts';

/** `terraform output -json`: every root output with its value and sensitivity. */
export const OutputJsonSchema = z.record(
  z.string(),
  z.looseObject({
    sensitive: z.boolean(),
    type: z.unknown().optional(),
    value: z.unknown(),
  }),
);
export type OutputJson = z.infer<typeof OutputJsonSchema>;

/**
 * Parse the outputs. Values are returned as they are (dependent units need
 * them); sensitive ones are registered as secrets first, so any log line or
 * stored record that repeats them is masked.
 */
export function parseOutputs(text: string, registry: SecretRegistry = globalSecrets): Record<string, OutputValue> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw outputError('terraform output -json did not print JSON', error);
  }
  const parsed = OutputJsonSchema.safeParse(data);
  if (!parsed.success) {
    const where = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw outputError(`terraform output -json has an unexpected shape: ${where}`, parsed.error);
  }
  const outputs: Record<string, OutputValue> = {};
  for (const [name, output] of Object.entries(parsed.data)) {
    if (output.sensitive) registry.add(output.value);
    outputs[name] = { value: output.value, sensitive: output.sensitive };
  }
  return outputs;
}

/**
 * The `outputs` message that closes an `apply -json` stream. Terraform leaves
 * out the values of sensitive outputs there.
 */
const ApplyOutputsSchema = z.record(
  z.string(),
  z.looseObject({
    sensitive: z.boolean(),
    type: z.unknown().optional(),
    value: z.unknown().optional(),
  }),
);

/**
 * The outputs as the apply itself reported them, which spares starting
 * `terraform output -json` after every apply. `undefined` when the stream
 * cannot give all of them (a sensitive value is left out, or the message is
 * missing or malformed): the caller then asks `output -json`.
 */
export function outputsFromApplyStream(messages: readonly UiMessage[], registry: SecretRegistry = globalSecrets): Record<string, OutputValue> | undefined {
  const message = messages.filter((m) => m.type === 'outputs').at(-1);
  const parsed = ApplyOutputsSchema.safeParse(message?.outputs);
  if (!parsed.success) return undefined;
  if (Object.values(parsed.data).some((o) => !('value' in o))) return undefined;
  const outputs: Record<string, OutputValue> = {};
  for (const [name, output] of Object.entries(parsed.data)) {
    if (output.sensitive) registry.add(output.value);
    outputs[name] = { value: output.value, sensitive: output.sensitive };
  }
  return outputs;
}

/**
 * The root outputs a plan expects (`planned_values.outputs` of `show -json`,
 * sensitive values in clear); for a plan with no changes, the outputs in the
 * state. Sensitive ones are registered as secrets.
 */
export function plannedOutputs(plan: PlanJson, registry: SecretRegistry = globalSecrets): Record<string, OutputValue> {
  const outputs: Record<string, OutputValue> = {};
  for (const [name, output] of Object.entries(plan.planned_values?.outputs ?? {})) {
    if (output.sensitive) registry.add(output.value);
    outputs[name] = { value: output.value, sensitive: output.sensitive };
  }
  return outputs;
}

function outputError(message: string, cause: unknown): ToolError {
  return new ToolError('E_TERRAFORM_OUTPUT', message, {
    retry: 'stalled',
    hint: 'use a Terraform 1.x release; `terraform output -json` must print an object of outputs',
    cause,
  });
}
