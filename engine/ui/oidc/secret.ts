import { readWithMode } from '../../fs.ts';
import { secrets } from '../../secrets.ts';
import { OidcError } from './errors.ts';

/**
 * Reads auth.oidc.clientSecretFile at start: the secret on its first line,
 * the file readable by its owner only (like api.tokenFile and the sealing
 * key), the value registered so that no log line or answer ever shows it.
 */
export async function readClientSecret(file: string): Promise<string> {
  const refuse = (problem: string, hint: string, cause?: unknown): OidcError =>
    new OidcError('E_OIDC_SECRET', `auth.oidc.clientSecretFile ${file} ${problem}`, { hint, cause, retry: 'stalled', details: { file } });
  let read: Awaited<ReturnType<typeof readWithMode>>;
  try {
    read = await readWithMode(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw refuse(`cannot be read (${code})`, 'write the client secret the provider issued for Plumbline into it, mode 0600, owned by the daemon user', error);
  }
  if (read.shared) {
    throw refuse(`is open to other users (mode ${read.mode})`, `run \`chmod 600 ${file}\`, and have the provider issue a new secret if others may have read it`);
  }
  const secret = (read.text.split(/\r?\n/)[0] ?? '').trim();
  if (!secret) throw refuse('is empty', 'write the client secret on its first line');
  secrets.add(secret);
  return secret;
}
