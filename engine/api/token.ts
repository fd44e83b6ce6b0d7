import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PlumblineError } from '../errors.ts';
import { readWithMode } from '../fs.ts';

/**
 * The API bearer token lives in a file only the daemon's user can read. The
 * daemon creates it on first start; the CLI reads it through the config's
 * `api.tokenFile`. Whoever holds the token can approve any plan, so a token
 * file other users can open, or a token short enough to guess, is refused by
 * both: the daemon does not start with it, and the CLI does not send it (a
 * token others could read must be replaced, not used one more time).
 */

/** The fewest characters a token may have (the daemon generates 64). */
export const MIN_TOKEN_LENGTH = 32;

/**
 * Read the token (trimmed). Throws E_TOKEN_MISSING, E_TOKEN_UNREADABLE,
 * E_TOKEN_INSECURE (group or others may open the file), E_TOKEN_EMPTY or
 * E_TOKEN_TOO_SHORT.
 */
export async function readToken(file: string): Promise<string> {
  let read: Awaited<ReturnType<typeof readWithMode>>;
  try {
    read = await readWithMode(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new PlumblineError('E_TOKEN_MISSING', `API token file ${file} does not exist`, {
        cause: error,
        hint: 'the daemon creates it on its first start (`plumbline daemon --config FILE`); or pass --token / PLUMBLINE_TOKEN',
        details: { file },
      });
    }
    throw new PlumblineError('E_TOKEN_UNREADABLE', `cannot read API token file ${file} (${code ?? 'error'})`, {
      cause: error,
      hint: 'run the command as the user the daemon runs as, or pass --token / PLUMBLINE_TOKEN',
      details: { file },
    });
  }
  const { text, mode } = read;
  if (read.shared) {
    throw new PlumblineError('E_TOKEN_INSECURE', `API token file ${file} is open to other users (mode ${mode}); only its owner may read it`, {
      hint: `run \`chmod 600 ${file}\`, or delete it and restart the daemon to generate a new token (do that if others may have read it)`,
      details: { file, mode },
    });
  }
  const token = text.trim();
  if (token.length === 0) {
    throw new PlumblineError('E_TOKEN_EMPTY', `API token file ${file} is empty`, {
      hint: 'delete the file and restart the daemon to generate a new token, or write a token into it',
      details: { file },
    });
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new PlumblineError('E_TOKEN_TOO_SHORT', `API token file ${file} holds ${token.length} characters; a token needs at least ${MIN_TOKEN_LENGTH}`, {
      hint: 'delete the file and restart the daemon to generate a new token, or write a longer random token into it',
      details: { file },
    });
  }
  return token;
}

/**
 * Return the token in `file`, generating it (32 random bytes, hex) when the
 * file does not exist. Parent folders are created with mode 0700 and the file
 * appears atomically with mode 0600: a reader never sees a partial token, and
 * when two processes race, both end up with the winner's token.
 */
export async function ensureToken(file: string): Promise<string> {
  try {
    return await readToken(file);
  } catch (error) {
    if (!(error instanceof PlumblineError) || error.code !== 'E_TOKEN_MISSING') throw error;
  }

  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, `${token}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    try {
      // link() fails when the target exists, so a concurrent creator's token wins.
      await link(temp, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return await readToken(file);
      // Filesystems without hard links: rename is still atomic.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
        await rename(temp, file);
        return token;
      }
      throw error;
    }
    return token;
  } catch (error) {
    if (error instanceof PlumblineError) throw error;
    throw new PlumblineError('E_TOKEN_WRITE', `cannot create API token file ${file}`, {
      cause: error,
      hint: 'check that the folder of api.tokenFile is writable by the daemon user',
      details: { file },
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
