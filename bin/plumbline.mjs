#!/usr/bin/env node
// Plumbline ships its TypeScript sources and runs them through tsx, so a clone
// works after `npm install` with no build step, and CDKTF stacks run the same way.
import { register } from 'tsx/esm/api';

// A reader that stops early (`plumbline status | head -1`) closes the pipe. Like
// `git log | head`, stop writing quietly: no stack trace, and the command still
// finishes with its own exit code (what it did is done, only its printing was cut).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

register();
const { main } = await import('../engine/cli/main.ts');
process.exitCode = await main(process.argv);
