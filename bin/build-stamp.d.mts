// Types of build-stamp.mjs for the TypeScript that imports it (the benchmark).
export declare const DIST: string;
export declare const ENTRY: string;
export declare const STAMP: string;
export declare const FORMAT: number;
export interface SourceRecord {
  size: number;
  mtimeMs: number;
  sha256: string;
}
export declare function describeSource(root: string, path: string): SourceRecord;
/** The compiled entry module when the build in `<root>/dist` matches the sources, otherwise undefined. */
export declare function freshBuild(root: string): string | undefined;
