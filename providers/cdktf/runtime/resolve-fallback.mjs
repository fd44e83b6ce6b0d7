// ES module resolve hook (see register-fallback.mjs): when a bare import
// (`cdktf`, `@cdktf/provider-aws/lib/vpc`) is not found from the importing
// file, try again as if imported from inside each fallback node_modules folder.
// Relative and absolute imports, and whatever resolves normally, are untouched.
import { pathToFileURL } from 'node:url';

let parents = [];

export function initialize(data) {
  parents = (data?.directories ?? []).map((dir) => pathToFileURL(`${String(dir).replace(/\/+$/, '')}/`).href);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (!isBare(specifier) || !isNotFound(error)) throw error;
    for (const parentURL of parents) {
      if (parentURL === context.parentURL) continue;
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch (retryError) {
        if (!isNotFound(retryError)) throw retryError;
      }
    }
    throw error;
  }
}

function isBare(specifier) {
  return !/^(?:\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:|#)/.test(specifier) && specifier !== '.' && specifier !== '..';
}

function isNotFound(error) {
  const code = error && typeof error === 'object' ? error.code : undefined;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
