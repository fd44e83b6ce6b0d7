import { lstat, lutimes, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';

/**
 * The few changed paths of a new snapshot, extracted from `git archive`'s
 * tar in this process instead of by a `tar` process: one process fewer per
 * commit. Only what `git archive` writes is understood (ustar headers, pax
 * path and linkpath records, files, symbolic links, folders); anything else
 * throws, and the caller extracts the whole commit the usual way.
 */

const BLOCK = 512;
/** Names are bytes to git: one that is not UTF-8 would be written under another name, so it throws. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A path that stays below the folder it is joined to: relative, without
 * empty, `.` or `..` segments. Git writes no other into a tree, but a fetch
 * does not check the trees it receives.
 */
export function isPlainRelativePath(path: string): boolean {
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

export interface TarEntry {
  path: string;
  type: 'file' | 'symlink' | 'dir';
  /** Permission bits as archived (the process umask applies when written, as with tar --no-same-permissions). */
  mode: number;
  mtime: number;
  /** A symbolic link's target. */
  link: string;
  data: Buffer;
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return utf8.decode(field.subarray(0, end < 0 ? length : end));
}

function octal(block: Buffer, start: number, length: number): number {
  const value = text(block, start, length).trim();
  if (!/^[0-7]+$/.test(value)) throw new Error(`unexpected tar number ${JSON.stringify(value)}`);
  return parseInt(value, 8);
}

/** pax records: `<length> <key>=<value>\n`, repeated. */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (space < 0 || !Number.isInteger(length) || length <= 0 || at + length > data.length) throw new Error('unexpected pax record');
    const record = utf8.decode(data.subarray(space + 1, at + length - 1));
    const equals = record.indexOf('=');
    if (equals < 0) throw new Error('unexpected pax record');
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/** The entries of an uncompressed tar as `git archive --format=tar` writes it. */
export function parseTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let extended = new Map<string, string>();
  for (let at = 0; at + BLOCK <= archive.length; ) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((byte) => byte === 0)) return entries;
    if (text(header, 257, 6) !== 'ustar') throw new Error('not a ustar archive');
    let sum = 0;
    for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (sum !== octal(header, 148, 8)) throw new Error('tar header checksum mismatch');
    const size = octal(header, 124, 12);
    const data = archive.subarray(at + BLOCK, at + BLOCK + size);
    if (data.length !== size) throw new Error('truncated tar archive');
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    const flag = String.fromCharCode(header[156]!);
    if (flag === 'g') continue; // the commit id, for people
    if (flag === 'x') {
      extended = paxRecords(data);
      continue;
    }
    const prefix = text(header, 345, 155);
    const name = text(header, 0, 100);
    const type = flag === '0' || flag === '\0' ? 'file' : flag === '2' ? 'symlink' : flag === '5' ? 'dir' : undefined;
    if (!type) throw new Error(`tar entry type ${JSON.stringify(flag)} is not one git archive writes for a file`);
    entries.push({
      path: (extended.get('path') ?? (prefix ? `${prefix}/${name}` : name)).replace(/\/$/, ''),
      type,
      mode: octal(header, 100, 8) & 0o777,
      mtime: octal(header, 136, 12),
      link: extended.get('linkpath') ?? text(header, 157, 100),
      data,
    });
    extended = new Map();
  }
  throw new Error('tar archive without its end');
}

/**
 * Write `entries` under `dir`, as `tar -x --no-same-owner --no-same-permissions`
 * would: modes through the umask, times from the archive. Files and links
 * must be among `expected` and not exist yet (the caller removed the changed
 * paths); folders must lead to one of them and be real folders: anything
 * else throws, nothing is written through a link.
 */
export async function writeEntries(dir: string, entries: readonly TarEntry[], expected: ReadonlySet<string>): Promise<void> {
  const folders = new Set<string>();
  for (const path of expected) for (let folder = posix.dirname(path); folder !== '.'; folder = posix.dirname(folder)) folders.add(folder);
  const folderTimes: [string, number][] = [];
  for (const entry of entries) {
    const wanted = entry.type === 'dir' ? folders.has(entry.path) : expected.has(entry.path);
    if (!wanted || !isPlainRelativePath(entry.path)) {
      throw new Error(`unexpected path ${JSON.stringify(entry.path)} in the archive`);
    }
    const target = join(dir, entry.path);
    if (entry.type === 'dir') {
      const existing = await lstat(target).catch(() => undefined);
      if (existing && !existing.isDirectory()) throw new Error(`${entry.path} is in the way of a folder`);
      if (!existing) await mkdir(target, { mode: entry.mode });
      folderTimes.push([target, entry.mtime]);
    } else if (entry.type === 'symlink') {
      await symlink(entry.link, target);
      await lutimes(target, entry.mtime, entry.mtime);
    } else {
      await writeFile(target, entry.data, { mode: entry.mode, flag: 'wx' });
      await utimes(target, entry.mtime, entry.mtime);
    }
  }
  // Last, as tar does: writing into a folder changes its time.
  for (const [target, mtime] of folderTimes) await utimes(target, mtime, mtime);
}
