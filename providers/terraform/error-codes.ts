import type { ErrorCodeTable } from '../../engine/provider-kit.ts';

/**
 * The codes only Terraform stacks raise (CDKTF stacks too: they plan and apply
 * with Terraform). Codes the engine acts on (E_PLAN_STALE, E_PLAN_MISSING,
 * E_UNDECLARED_VARIABLE...) are the engine's, in engine/error-codes.ts.
 */
export const TERRAFORM_ERROR_CODES = {
  E_STATE_LOCKED: { retry: 'waiting', meaning: 'another terraform run holds the state lock, retried: if no run is active, release it with terraform force-unlock <ID> (the ID is in the message)' },
  E_TERRAFORM_NETWORK: { retry: 'transient', meaning: 'terraform could not reach a registry, provider mirror or cloud API, retried: check the network and the provider_installation of the Terraform CLI config' },
  E_TERRAFORM_INIT: { retry: 'stalled', meaning: 'terraform init failed: fix the configuration (syntax, required_providers, modules, backend) or the provider mirror, and commit' },
  E_TERRAFORM_PLAN: { retry: 'stalled', meaning: 'terraform plan failed: fix the configuration at the place the message names, or the stack’s variables, and commit' },
  E_TERRAFORM_APPLY: { retry: 'stalled', meaning: 'terraform apply stopped part-way (the state records what it did): fix the cause in the message (configuration, permissions, quotas) and commit' },
  E_TERRAFORM_OUTPUT: { retry: 'transient', meaning: 'the apply finished but its outputs could not be read: check that the state is reachable, and use a Terraform 1.x release' },
  E_PLAN_FORMAT: { retry: 'stalled', meaning: 'terraform show -json printed a plan format this Plumbline does not read: use a Terraform 1.x release, or upgrade Plumbline' },
} as const satisfies ErrorCodeTable;

declare module '../../engine/errors.ts' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging: the keys are what it adds
  interface ErrorCodeRegistry extends Record<keyof typeof TERRAFORM_ERROR_CODES, true> {}
}
