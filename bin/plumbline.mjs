#!/usr/bin/env node
// Plumbline ships its TypeScript sources and runs them through tsx, so a clone
// works after `npm install` with no build step, and CDKTF stacks run the same way.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/cli/main.ts');
process.exitCode = await main(process.argv);
