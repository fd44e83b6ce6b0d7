import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Terraform CLI config for tests: providers come from the local mirror only. */
export function writeTerraformRc(dir: string): string {
  const file = join(dir, 'terraformrc');
  writeFileSync(file, 'provider_installation {\n  filesystem_mirror {\n    path = "/opt/tf-plugins"\n  }\n}\n');
  return file;
}

/** A small HCL stack that needs no provider download: terraform_data only. */
export function helloStack(options: { name?: string; value?: string; approval?: string; extra?: string } = {}): Record<string, string> {
  const name = options.name ?? 'hello';
  return {
    [`stacks/${name}/stack.yaml`]: `kind: terraform\napproval: ${options.approval ?? 'auto-unless-destroy'}\nvars:\n  greeting: ${options.value ?? 'hello'}\n`,
    [`stacks/${name}/main.tf`]: `variable "greeting" {\n  type = string\n}\n\nresource "terraform_data" "greeting" {\n  input = var.greeting\n}\n\noutput "greeting" {\n  value = terraform_data.greeting.output\n}\n${options.extra ?? ''}`,
  };
}
