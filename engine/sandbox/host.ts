import { accessSync, constants, lstatSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { HostPath, HostView } from './bwrap-args.ts';

/** The host's file system, as bwrap-args.ts asks about it. */
export const hostView: HostView = {
  inspect(path: string): HostPath | null {
    try {
      const own = lstatSync(path);
      const real = realpathSync(path);
      const info = statSync(real);
      return {
        kind: info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other',
        real,
        ...(own.isSymbolicLink() ? { link: readlinkSync(path) } : {}),
      };
    } catch {
      return null;
    }
  },
};

/** A command as the shell would find it: a path as it is (relative to `cwd`), a bare name on PATH; null when there is none. */
export function findExecutable(command: string, path: string | undefined, cwd: string = process.cwd()): string | null {
  const candidates = command.includes('/') ? [isAbsolute(command) ? command : resolve(cwd, command)] : (path ?? '').split(delimiter).filter(isAbsolute).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Account names of the host's /etc/passwd (read once). */
let accounts: string[] | undefined;
export function accountNames(): string[] {
  if (!accounts) {
    let text = '';
    try {
      text = readFileSync('/etc/passwd', 'utf8');
    } catch {
      // no accounts file: none listed
    }
    accounts = text
      .split('\n')
      .map((line) => line.split(':')[0]!.trim())
      .filter((name) => /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(name));
  }
  return accounts;
}
