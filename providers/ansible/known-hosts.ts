import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * OpenSSH `known_hosts`, read the way ssh reads it: plain and hashed
 * (`|1|salt|hash`) host names, `[host]:port` for ports other than 22,
 * comma-separated patterns with `*`, `?` and `!` negation, and the
 * `@revoked` and `@cert-authority` markers.
 */

export interface KnownHostEntry {
  marker: 'revoked' | 'cert-authority' | null;
  patterns: string;
  keyType: string;
  key: Buffer;
  line: number;
}

export type HostKeyVerdict =
  | { status: 'ok'; keyType: string; fingerprint: string }
  /** No entry names this host. */
  | { status: 'unknown'; keyType: string; fingerprint: string }
  /** Entries name this host, none with this key. */
  | { status: 'changed'; keyType: string; fingerprint: string; knownTypes: string[] }
  | { status: 'revoked'; keyType: string; fingerprint: string };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]?.startsWith('@')) {
      const word = fields.shift()!.slice(1);
      if (word !== 'revoked' && word !== 'cert-authority') return;
      marker = word;
    }
    const [patterns, keyType, key] = fields;
    if (!patterns || !keyType || !key) return;
    const blob = Buffer.from(key, 'base64');
    if (blob.length === 0) return;
    entries.push({ marker, patterns, keyType, key: blob, line: index + 1 });
  });
  return entries;
}

/** The name ssh looks up: the host, or `[host]:port` when the port is not 22. */
export function lookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Does this entry's host field name `name`? */
export function entryMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return hashedMatches(patterns, name);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    if (globMatches(body, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function globMatches(pattern: string, name: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(name);
}

/** `SHA256:...` as ssh-keygen -l and ssh print it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written inside an SSH public key blob (`ssh-ed25519`...). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1') || 'unknown';
}

/** Known key types for a host (to offer only those, as ssh does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => e.marker === null && entryMatches(e.patterns, name)).map((e) => e.keyType))];
}

export function verifyHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const keyType = keyTypeOf(key);
  const print = fingerprint(key);
  if (entries.some((e) => e.marker === 'revoked' && e.key.equals(key))) return { status: 'revoked', keyType, fingerprint: print };
  const forHost = entries.filter((e) => e.marker === null && entryMatches(e.patterns, name));
  if (forHost.some((e) => e.key.equals(key))) return { status: 'ok', keyType, fingerprint: print };
  if (forHost.length === 0) return { status: 'unknown', keyType, fingerprint: print };
  return { status: 'changed', keyType, fingerprint: print, knownTypes: [...new Set(forHost.map((e) => e.keyType))] };
}

/** What a person reads when a host key is refused. */
export function describeVerdict(host: string, name: string, verdict: HostKeyVerdict, file: string): string {
  const type = verdict.keyType.replace(/^ssh-/, '').toUpperCase();
  switch (verdict.status) {
    case 'ok':
      return `${host}: host key ${type} ${verdict.fingerprint} matches ${file}`;
    case 'unknown':
      return `${host}: host key verification failed: no key for ${name} in ${file}; the host offers ${type} key ${verdict.fingerprint}`;
    case 'changed':
      return `${host}: host key verification failed: the ${type} key ${verdict.fingerprint} offered by ${name} does not match ${file} (REMOTE HOST IDENTIFICATION HAS CHANGED, or someone is intercepting the connection)`;
    case 'revoked':
      return `${host}: host key verification failed: the ${type} key ${verdict.fingerprint} offered by ${name} is marked @revoked in ${file}`;
  }
}
