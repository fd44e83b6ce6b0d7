'use strict';
// Preloaded (`node --require`) into every synthesis process Plumbline starts.
// When the stack dies of an uncaught exception (a TypeScript syntax error
// raised by the loader, or anything the stack code throws), it writes the
// error's name, message and stack as JSON to the file named by
// PLUMBLINE_CDKTF_REPORT, so the daemon can point at the failing line without
// parsing free-form stderr. Plain dependency-free CommonJS on purpose: it runs
// before any TypeScript loader, for ES module and CommonJS stacks alike.
const fs = require('node:fs');

const reportFile = process.env.PLUMBLINE_CDKTF_REPORT;
if (reportFile) {
  process.on('uncaughtExceptionMonitor', (error, origin) => {
    const isError = error instanceof Error;
    const report = {
      origin,
      name: isError ? error.name : typeof error,
      code: isError && typeof error.code === 'string' ? error.code : undefined,
      message: isError ? error.message : describe(error),
      stack: isError && typeof error.stack === 'string' ? error.stack : '',
      exportPresent: isError ? exportPresent(error.message) : undefined,
    };
    try {
      fs.writeFileSync(reportFile, JSON.stringify(report));
    } catch {
      // The daemon falls back to stderr.
    }
  });
}

// `does not provide an export named 'X'` says the same for a name a package
// lacks and for a name of a CommonJS package that Node could not find
// statically: load the package (as the app was about to) and look.
function exportPresent(message) {
  const named = /^The requested module '([^'./][^']*)' does not provide an export named '([^']+)'/.exec(String(message));
  if (!named) return undefined;
  try {
    const loaded = require(require.resolve(named[1], { paths: [process.cwd()] }));
    return loaded !== null && (typeof loaded === 'object' || typeof loaded === 'function') && named[2] in loaded;
  } catch {
    return undefined;
  }
}

function describe(value) {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
