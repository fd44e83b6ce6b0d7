import { fileURLToPath } from 'node:url';

/**
 * Plumbline's own installation folder (package.json, node_modules, the UI's
 * assets, the CDKTF runtime hooks). This module sits one folder below it both
 * as a source (engine/) and compiled (every module of the build is directly in
 * dist/, see scripts/build.mjs), so the same relative URL names it from either.
 */
export const installRoot = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
