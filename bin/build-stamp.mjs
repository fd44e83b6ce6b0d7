// The build in dist/ and the sources it was made from. `npm ci` / `npm install`
// compile the TypeScript once (scripts/build.mjs, the `prepare` script); the
// launcher runs that JavaScript only while every source file it came from is
// unchanged, so a developer editing a source never runs stale code.
//
// The stamp lists each source file the build read with its size, modification
// time and SHA-256. The quick check is a stat of each file (about 2 ms for the
// ~200 files); a file whose size or time differs is read and hashed, so a copy
// with other times (npm's package tarballs set every file's time to 1985) still
// counts as fresh when its content is the same.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DIST = 'dist';
export const ENTRY = 'main.js';
export const STAMP = 'build-stamp.json';
/** Bumped when the build's output changes shape: a stamp of another format is stale. */
export const FORMAT = 1;

/** The stamp's record of one source file. */
export function describeSource(root, path) {
  const file = join(root, path);
  const { size, mtimeMs } = statSync(file);
  return { size, mtimeMs, sha256: sha256(file) };
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * The compiled entry module when the build in `<root>/dist` matches the
 * sources, otherwise undefined (no build, another format, a source changed,
 * added to the imports, or removed).
 */
export function freshBuild(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, DIST, STAMP), 'utf8'));
  } catch {
    return undefined; // never built, or the build did not finish
  }
  if (stamp.format !== FORMAT || typeof stamp.sources !== 'object' || stamp.sources === null) return undefined;
  for (const [path, recorded] of Object.entries(stamp.sources)) {
    const file = join(root, path);
    let now;
    try {
      now = statSync(file);
    } catch {
      return undefined; // a source the build read is gone
    }
    if (now.size === recorded.size && now.mtimeMs === recorded.mtimeMs) continue;
    if (now.size !== recorded.size || sha256(file) !== recorded.sha256) return undefined;
  }
  return join(root, DIST, ENTRY);
}
