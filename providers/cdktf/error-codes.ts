import type { ErrorCodeTable } from '../../engine/provider-kit.ts';

/** The codes only CDKTF stacks raise: the app, its packages and its synthesis. Terraform's own failures keep Terraform's codes. */
export const CDKTF_ERROR_CODES = {
  E_CDKTF_ENTRY: { retry: 'stalled', meaning: 'the stack’s entry is not a file inside the repository at this commit: commit it, or fix entry in stack.yaml' },
  E_CDKTF_LOCKFILE: { retry: 'stalled', meaning: 'the app’s package.json has no package-lock.json next to it: run npm install there and commit the lockfile' },
  E_CDKTF_INSTALL: { retry: 'stalled', meaning: 'npm ci of the app failed (transient when the registry was unreachable): package.json and package-lock.json must agree; run npm install and commit both' },
  E_CDKTF_SYNTH: { retry: 'stalled', meaning: 'the app failed to synthesize (a syntax error, an exception): fix it at the file and line the message names; running its entry with npx tsx reproduces it' },
  E_CDKTF_VERSION_MISMATCH: { retry: 'stalled', meaning: 'the app loads a toolkit package (cdktf, constructs, a provider) at a version another of its packages does not fit: align it in package.json and commit the lockfile' },
  E_CDKTF_IMPORT_OUTSIDE: { retry: 'stalled', meaning: 'the app imports a file outside the repository: move the shared code into the repository, or publish it as a package' },
  E_CDKTF_IMPORT_FILE: { retry: 'stalled', meaning: 'the app imports a file that does not exist at this commit: commit it, or fix the import (names are case-sensitive)' },
  E_CDKTF_IMPORT_PACKAGE: { retry: 'stalled', meaning: 'the app imports a package its package.json does not declare, or npm ci did not install: npm install it and commit package.json and the lockfile' },
  E_CDKTF_IMPORT_EXPORT: { retry: 'stalled', meaning: 'the app imports a name or path a package does not export: fix the import, or pin the version that has it' },
  E_CDKTF_IMPORT_FORMAT: { retry: 'stalled', meaning: 'an ES module and a CommonJS one do not fit together as imported: the message says how to import it, or to make the entry an ES module' },
  E_CDKTF_MANIFEST: { retry: 'stalled', meaning: 'the app wrote no manifest Plumbline understands: it must create an App and call app.synth() without its own outdir (cdktf 0.20 or later)' },
  E_CDKTF_STACK: { retry: 'stalled', meaning: 'the app has no stack, or several and stack.yaml does not say which: set stackName, one unit per stack' },
} as const satisfies ErrorCodeTable;

declare module '../../engine/errors.ts' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging: the keys are what it adds
  interface ErrorCodeRegistry extends Record<keyof typeof CDKTF_ERROR_CODES, true> {}
}
