import { open, type FileHandle } from 'node:fs/promises';
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
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw refuse(`cannot be read (${code})`, 'write the client secret the provider issued for Plumbline into it, mode 0600, owned by the daemon user', error);
  }
  let text: string;
  let mode: number;
  try {
    // The mode of the file read, not of whatever the path names a moment later.
    mode = (await handle.stat()).mode & 0o777;
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  if ((mode & 0o077) !== 0) {
    const shown = `0${mode.toString(8).padStart(3, '0')}`;
    throw refuse(`is open to other users (mode ${shown})`, `run \`chmod 600 ${file}\`, and have the provider issue a new secret if others may have read it`);
  }
  const secret = (text.split(/\r?\n/)[0] ?? '').trim();
  if (!secret) throw refuse('is empty', 'write the client secret on its first line');
  secrets.add(secret);
  return secret;
}
