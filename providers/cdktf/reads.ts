import { realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isPlumblineError, pathExists, type ReadEntry, type ReadSet, type ReadsRequest } from '../../engine/provider-kit.ts';
import { inFolder, locateApp, shown } from './app.ts';
import { scanImports } from './imports.ts';

/**
 * What a CDKTF unit reads: the files its entry imports, recursively, and the
 * files that decide how the app is built (package.json, lockfile, cdktf.json,
 * tsconfig.json). Static: esbuild parses the files, nothing runs.
 */

/** Always listed: a commit that adds one changes how the app builds. */
const APP_FILES = ['package.json', 'package-lock.json', 'cdktf.json'] as const;
/** Listed when present. */
const OPTIONAL_APP_FILES = ['npm-shrinkwrap.json', '.npmrc', 'tsconfig.json', 'node_modules'] as const;

export async function cdktfReads(request: ReadsRequest): Promise<ReadSet> {
  const { unit } = request;
  const repoDir = await realpath(request.repoDir).catch(() => request.repoDir);
  let app;
  try {
    app = await locateApp(unit, join(repoDir, unit.path), repoDir);
  } catch (error) {
    if (!isPlumblineError(error)) throw error;
    return { entries: [], notes: [error.message] };
  }

  const repoPath = (absolute: string): string | null => {
    const path = relative(repoDir, absolute);
    return path === '' || path.startsWith(`..${sep}`) || path === '..' ? null : path.split(sep).join('/');
  };
  const scan = await scanImports({ entryFile: join(repoDir, app.entry), repoPath });

  const entries: ReadEntry[] = scan.files.map((path) => ({
    path,
    why: path === app.entry ? `the app's entry (entry in ${unit.file})` : `imported by ${scan.importers.get(path) ?? app.entry}`,
  }));
  const appFolder = shown(app.appPath);
  for (const name of APP_FILES) entries.push({ path: inFolder(app.appPath, name), why: `the app's ${name} (in ${appFolder})` });
  for (const name of OPTIONAL_APP_FILES) {
    const path = inFolder(app.appPath, name);
    if (await pathExists(join(repoDir, path))) entries.push({ path, why: `the app's ${name} (in ${appFolder})` });
  }

  const notes = [
    ...scan.missing.map((m) => `${m.at.file}:${m.at.line}:${m.at.column}: imports ${m.specifier}, which does not exist`),
    ...scan.outside.map((m) => `${m.at.file}:${m.at.line}:${m.at.column}: imports ${m.specifier}, outside the repository`),
    ...scan.notes,
  ];
  return { entries, ...(notes.length > 0 ? { notes } : {}) };
}
