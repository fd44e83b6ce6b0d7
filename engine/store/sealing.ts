import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PlumblineError } from '../errors.ts';

/**
 * What the store keeps that holds secrets in clear (the outputs a dependant
 * needs, binary plans carrying sensitive values) is sealed with AES-256-GCM
 * under a key that lives in a file beside the daemon, never in the database:
 * a copy of the database (a backup, a dump, a replica) does not give the
 * secrets away, and a changed byte is detected, not decrypted into garbage.
 */
export interface Sealer {
  seal(clear: Buffer): Buffer;
  /** Throws E_STORE_SEALED_DAMAGED when the bytes were not sealed with this key or were changed. */
  open(sealed: Buffer): Buffer;
}

const MAGIC = Buffer.from('PLS1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export function sealerOf(key: Buffer): Sealer {
  if (key.length !== KEY_BYTES) throw new Error(`a sealing key has ${KEY_BYTES} bytes, not ${key.length}`);
  return {
    seal(clear) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(clear), cipher.final()]);
      return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]);
    },
    open(sealed) {
      if (sealed.length < MAGIC.length + IV_BYTES + TAG_BYTES || !sealed.subarray(0, MAGIC.length).equals(MAGIC)) {
        throw sealedDamaged();
      }
      const iv = sealed.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
      const tag = sealed.subarray(MAGIC.length + IV_BYTES, MAGIC.length + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(sealed.subarray(MAGIC.length + IV_BYTES + TAG_BYTES)), decipher.final()]);
      } catch (error) {
        throw sealedDamaged(error);
      }
    },
  };
}

function sealedDamaged(cause?: unknown): PlumblineError {
  return new PlumblineError('E_STORE_SEALED_DAMAGED', 'a sealed value in the store cannot be opened with this daemon’s sealing key', {
    cause,
    hint: 'the value was sealed under another key or changed in the database: every daemon sharing a store needs the same store.sealingKeyFile',
  });
}

/** Text columns keep sealed values as base64 behind this prefix. */
const TEXT_PREFIX = 'sealed:';

export function sealText(sealer: Sealer, clear: string): string {
  return TEXT_PREFIX + sealer.seal(Buffer.from(clear, 'utf8')).toString('base64');
}

export function openText(sealer: Sealer, stored: string): string {
  if (!stored.startsWith(TEXT_PREFIX)) throw sealedDamaged();
  return sealer.open(Buffer.from(stored.slice(TEXT_PREFIX.length), 'base64')).toString('utf8');
}

/** The default key file: private, like the rest of the state directory. */
export function defaultSealingKeyFile(stateDir: string): string {
  return join(stateDir, 'sealing.key');
}

/**
 * Reads the key (64 hex digits on the first line), or creates one (0600) when
 * `create` allows it: a store that already holds sealed values must not get a
 * key of its own that cannot open them.
 */
export async function loadSealingKey(file: string, create: boolean): Promise<{ key: Buffer; created: boolean }> {
  let text: string;
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0) {
      throw new PlumblineError('E_SEALING_KEY_OPEN', `the sealing key file ${file} can be read by others (mode ${(info.mode & 0o777).toString(8)})`, {
        hint: `chmod 600 ${file}: whoever reads it can open the secrets in the store`,
      });
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!create) {
      throw new PlumblineError('E_SEALING_KEY_MISSING', `the store holds sealed values but the sealing key file ${file} does not exist`, {
        hint: 'copy the key file from a daemon already using this store (every member of a cluster needs the same key), or point store.sealingKeyFile at it',
      });
    }
    const key = randomBytes(KEY_BYTES);
    // wx: two daemons starting at once must not overwrite each other's key.
    await writeFile(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') return;
      throw e;
    });
    await chmod(file, 0o600);
    return { key: parseKey(await readFile(file, 'utf8'), file), created: true };
  }
  return { key: parseKey(text, file), created: false };
}

function parseKey(text: string, file: string): Buffer {
  const hex = text.split('\n')[0]!.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new PlumblineError('E_SEALING_KEY_INVALID', `the sealing key file ${file} does not hold a key`, {
      hint: 'it holds 64 hexadecimal digits on its first line (openssl rand -hex 32 makes one); restore it from where you keep its copy',
    });
  }
  return Buffer.from(hex, 'hex');
}
