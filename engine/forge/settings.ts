import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkHttpsUrl } from '../config/schema.ts';
import { PlumblineError } from '../errors.ts';
import { secrets } from '../secrets.ts';
import type { ProblemCollector } from '../yaml/problems.ts';
import type { ForgeSettings, ForgeType } from './types.ts';

/** The `forge:` section as its schema (engine/config/schema.ts) parses it. */
export interface RawForge {
  type: ForgeType;
  url: string;
  repository: string;
  tokenFile: string;
  webhookSecretFile?: string | undefined;
}

/** What a type check cannot say: the URL (https, or http on loopback) and the repository's form. */
export function checkForgeSection(value: unknown, report: ProblemCollector): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const forge = value as Record<string, unknown>;
  if (typeof forge.url === 'string' && forge.url) {
    const problem = checkHttpsUrl(forge.url) ?? checkPlainUrl(forge.url);
    if (problem) report.at(['forge', 'url'], problem);
  }
  if (typeof forge.repository === 'string' && forge.repository) {
    const segments = forge.repository.split('/');
    const gitlab = forge.type === 'gitlab';
    const valid = segments.every((s) => /^[A-Za-z0-9_.-]+$/.test(s) && s !== '.' && s !== '..') && (gitlab ? segments.length >= 2 : segments.length === 2);
    if (!valid) {
      report.at(['forge', 'repository'], gitlab ? `must be the project path, e.g. group/infra or group/sub/infra (got ${JSON.stringify(forge.repository)})` : `must be owner/name, e.g. org/infra (got ${JSON.stringify(forge.repository)})`);
    }
  }
}

/** A URL with credentials, a query or a fragment would be lost or leaked; the token belongs in tokenFile. */
function checkPlainUrl(url: string): string | undefined {
  const parsed = new URL(url);
  if (parsed.username || parsed.password) return 'must not hold credentials: put the token in forge.tokenFile';
  if (parsed.search || parsed.hash) return `must be the forge's address alone, without a query (got ${parsed.origin}${parsed.pathname}...)`;
  return undefined;
}

/** The section with its paths made absolute; null when it is absent. */
export function normalizeForge(raw: RawForge | null | undefined, base: string): ForgeSettings | null {
  if (!raw) return null;
  return {
    type: raw.type,
    url: raw.url.replace(/\/+$/, ''),
    repository: raw.repository,
    tokenFile: resolve(base, raw.tokenFile),
    webhookSecretFile: raw.webhookSecretFile ? resolve(base, raw.webhookSecretFile) : null,
  };
}

/**
 * The token and the webhook secret, read once at start (a missing or empty
 * file stops the start) and registered as secrets: masked in every log line
 * and answer from then on.
 */
export async function readForgeSecrets(settings: ForgeSettings): Promise<{ token: string; webhookSecret: string | null }> {
  const token = await readSecretFile(settings.tokenFile, 'forge.tokenFile', 'the forge API token');
  const webhookSecret = settings.webhookSecretFile ? await readSecretFile(settings.webhookSecretFile, 'forge.webhookSecretFile', 'the webhook secret') : null;
  return { token, webhookSecret };
}

async function readSecretFile(file: string, field: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PlumblineError('E_FORGE_SECRET_READ', `cannot read ${what} from ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      cause: error,
      retry: 'stalled',
      hint: `${field} must name a file the daemon's user can read, holding ${what} on its first line`,
    });
  }
  const value = text.split(/\r?\n/)[0]!.trim();
  if (value === '') {
    throw new PlumblineError('E_FORGE_SECRET_EMPTY', `${file} holds no ${what}`, { retry: 'stalled', hint: `write ${what} on the first line of ${field}` });
  }
  secrets.add(value);
  return value;
}
