import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { durationSchema, type Logger, type SettingsPart, toolPath } from '../../engine/provider-kit.ts';

/** The `terraform:` section of plumbline.yaml; CDKTF stacks run with it too. */
export interface TerraformSettings {
  /** `terraform` (or `tofu`): a bare name is looked up on PATH, anything with a slash is a path. */
  binary: string;
  /** Absolute, or null to inherit the daemon's environment (`TF_CLI_CONFIG_FILE`). */
  cliConfigFile: string | null;
  /** Per terraform command. */
  timeoutMs: number;
}

const text = z.string().min(1);

const fields = {
  binary: text.optional(),
  cliConfigFile: text.optional(),
  timeout: durationSchema.optional(),
};

type Section = z.output<z.ZodObject<typeof fields>>;

export const terraformSettingsPart: SettingsPart<TerraformSettings> = {
  key: 'terraform',
  fields,
  minimums: { timeout: 1_000 },
  defaults: { binary: 'terraform', cliConfigFile: null, timeoutMs: 30 * 60_000 },
  normalize(section, base) {
    const s = section as Section;
    return {
      binary: toolPath(s.binary ?? terraformSettingsPart.defaults.binary, base),
      cliConfigFile: s.cliConfigFile ? resolve(base, s.cliConfigFile) : null,
      timeoutMs: s.timeout ?? terraformSettingsPart.defaults.timeoutMs,
    };
  },
};

/**
 * The settings every terraform process runs with. Without `cliConfigFile`,
 * the daemon's `TF_CLI_CONFIG_FILE` is made absolute here: terraform runs in a
 * workspace folder, where a relative path names nothing and terraform would
 * silently fall back to its defaults (the public registry).
 */
export function effectiveSettings(settings: TerraformSettings, log: Logger, env: NodeJS.ProcessEnv = process.env): TerraformSettings {
  const fromEnv = env.TF_CLI_CONFIG_FILE;
  const cliConfigFile = settings.cliConfigFile ?? (fromEnv ? resolve(fromEnv) : null);
  if (cliConfigFile && !existsSync(cliConfigFile)) log.warn({ file: cliConfigFile }, 'the Terraform CLI configuration file does not exist: Terraform uses its defaults');
  return { ...settings, cliConfigFile };
}
