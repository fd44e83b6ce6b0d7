#!/usr/bin/env node
// Plumbline's command. It runs the JavaScript compiled into dist/ by `npm ci` /
// `npm install` (the `prepare` script, scripts/build.mjs) while that build
// matches the sources (bin/build-stamp.mjs), and otherwise the TypeScript
// sources through tsx: a clone works before any build, and a source edited
// since the build runs as edited, never as the stale build.
// PLUMBLINE_FROM_SOURCE=1 always runs the sources.
import { fileURLToPath } from 'node:url';
import { freshBuild } from './build-stamp.mjs';

// A reader that stops early (`plumbline status | head -1`) closes the pipe. Like
// `git log | head`, stop writing quietly: no stack trace, and the command still
// finishes with its own exit code (what it did is done, only its printing was cut).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const built = process.env.PLUMBLINE_FROM_SOURCE === '1' ? undefined : freshBuild(fileURLToPath(new URL('..', import.meta.url)));
let main;
if (built) {
  ({ main } = await import(built));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../engine/cli/main.ts'));
}
process.exitCode = await main(process.argv);
