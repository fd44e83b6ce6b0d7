import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { secrets } from '../../engine/provider-kit.ts';

/** The run's variables, for `-var-file`. Holds secrets: mode 0600, removed after the plan. */
export const VAR_FILE = 'plumbline.tfvars.json';

/** Register the secret variables' values before anything can print them. */
export function registerSecretVars(vars: Record<string, unknown>, sensitiveVars: readonly string[]): void {
  for (const name of sensitiveVars) {
    if (name in vars) secrets.add(vars[name]);
  }
}

/** Write the var file into `artifactsDir`; undefined when there is nothing to pass. */
export async function writeVarFile(artifactsDir: string, vars: Record<string, unknown>): Promise<string | undefined> {
  if (Object.keys(vars).length === 0) return undefined;
  const path = join(artifactsDir, VAR_FILE);
  await rm(path, { force: true }); // a fresh file gets the mode below
  await writeFile(path, `${JSON.stringify(vars, null, 2)}\n`, { mode: 0o600 });
  return path;
}
