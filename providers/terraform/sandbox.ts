import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { SandboxNeeds } from '../../engine/provider-kit.ts';
import type { TerraformSettings } from './settings.ts';

/**
 * What a terraform process sees beyond its run (engine/sandbox): the plugin
 * cache, read-only except for `init`, the only command that installs into it;
 * the CLI configuration the daemon gives terraform and every folder it names
 * (filesystem mirrors, dev_overrides); the local plugin folders terraform
 * looks in by itself.
 */
export function terraformNeeds(settings: TerraformSettings, pluginCacheDir: string, options: { init: boolean }): SandboxNeeds {
  const config = cliConfigFile(settings);
  return {
    readOnly: [...(options.init ? [] : [pluginCacheDir]), ...(config ? [config, ...namedFolders(config)] : []), ...implicitPluginFolders(), ...loginCredentials()],
    readWrite: options.init ? [pluginCacheDir] : [],
  };
}

/**
 * The CLI configuration terraform reads: the one the settings name (or
 * `TF_CLI_CONFIG_FILE`, see settings.ts), else the daemon user's
 * `~/.terraformrc`, which the sandbox's private home would hide.
 */
export function cliConfigFile(settings: TerraformSettings, home: string = homedir()): string | null {
  if (settings.cliConfigFile) return settings.cliConfigFile;
  const own = join(home, '.terraformrc');
  return existsSync(own) ? own : null;
}

/** Absolute folders the CLI configuration names in quotes (`path = "/opt/tf-plugins"`). */
export function namedFolders(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const folders = [...text.matchAll(/"(\/[^"\n]*)"/g)].map((m) => m[1]!).filter((p) => isAbsolute(p) && isFolder(p));
  return [...new Set(folders)];
}

/** Terraform's implied local mirrors in the daemon user's home (those under /usr are system folders). */
function implicitPluginFolders(home: string = homedir()): string[] {
  const data = process.env.XDG_DATA_HOME || join(home, '.local', 'share');
  return [join(home, '.terraform.d', 'plugins'), join(data, 'terraform', 'plugins')].filter(isFolder);
}

/** Tokens `terraform login` saved for the daemon's user: terraform reads them whatever CLI configuration is named. */
function loginCredentials(home: string = homedir()): string[] {
  const file = join(home, '.terraform.d', 'credentials.tfrc.json');
  return existsSync(file) ? [file] : [];
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
