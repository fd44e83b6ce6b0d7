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
    };
    try {
      fs.writeFileSync(reportFile, JSON.stringify(report));
    } catch {
      // The daemon falls back to stderr.
    }
  });
}

function describe(value) {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
