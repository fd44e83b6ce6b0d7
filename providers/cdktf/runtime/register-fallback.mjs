// Imported (`node --import`) after the TypeScript loader into ES module
// synthesis processes: registers resolve-fallback.mjs so that files outside
// the stack folder (shared code elsewhere in the repository) resolve bare
// imports such as `cdktf` from the stack's own node_modules. CommonJS gets the
// same through NODE_PATH, which the daemon sets.
import { register } from 'node:module';

const directories = JSON.parse(process.env.PLUMBLINE_CDKTF_FALLBACK ?? '[]');
if (directories.length > 0) {
  register('./resolve-fallback.mjs', import.meta.url, { data: { directories } });
}
