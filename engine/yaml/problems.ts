import type { z } from 'zod';
import type { Problem } from '../errors.ts';
import type { Locate, YamlPath } from './parse.ts';

/**
 * Turns findings about a parsed YAML document into `Problem`s that point at
 * the line to fix and name the field (`ssh.port`, `dependsOn[1]`), in words a
 * person editing the file understands rather than in schema jargon.
 */
export class ProblemCollector {
  readonly problems: Problem[] = [];

  /** `locate` may be set later, once the document is parsed; until then problems sit at line 1. */
  constructor(
    readonly file: string,
    public locate: Locate = () => ({ line: 1, column: 1 }),
  ) {}

  /**
   * A problem about one field; the message is prefixed with its path. `where`
   * points elsewhere when the field is missing and a sibling explains why it
   * is needed (`entry` is required because of `kind`).
   */
  at(path: YamlPath, message: string, where: YamlPath = path): void {
    const name = formatPath(path);
    this.problems.push({ file: this.file, ...this.locate(where), message: name ? `${name}: ${message}` : message });
  }

  /** A problem about the file as a whole, reported at its first line. */
  atStart(message: string): void {
    this.problems.push({ file: this.file, line: 1, column: 1, message });
  }

  /** Report what `schema.safeParse(value, { reportInput: true })` found. */
  zodIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): void {
    for (const issue of issues) {
      const path = issue.path.filter(isPathKey);
      if (issue.code === 'unrecognized_keys') {
        const allowed = objectKeysAt(schema, path);
        for (const key of issue.keys) this.at([...path, key], unknownFieldMessage(key, allowed));
      } else {
        this.at(path, describeIssue(issue));
      }
    }
  }

  /** Errors only: warnings leave the file valid. */
  get count(): number {
    return this.problems.filter((p) => p.severity !== 'warning').length;
  }
}

/** By file, then line and column; problems at one place keep their order. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
}

/** `ssh.port`, `dependsOn[1]`, `vars["my key"]`. */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** How a value reads in a message: strings quoted, collections by kind. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

export function unknownFieldMessage(key: string, allowed: readonly string[]): string {
  const guess = closest(key, allowed);
  const hint = guess ? `, did you mean "${guess}"?` : '';
  return `unknown field${hint} (allowed: ${allowed.join(', ')})`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** The minimum of zod's schema internals needed to find an object's keys. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
}

function defOf(schema: z.ZodType | undefined): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
}

/** Look through wrappers (optional, default, pipes) at the schema they hold. */
function unwrapSchema(schema: z.ZodType | undefined): SchemaDef | undefined {
  let def = defOf(schema);
  while (def && (def.innerType || def.in) && def.type !== 'object') def = defOf(def.innerType ?? def.in);
  return def;
}

/** The keys the object schema at `path` accepts, to list them for an unknown key. */
function objectKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let def = unwrapSchema(schema);
  for (const segment of path) {
    if (!def) return [];
    if (def.type === 'object') def = unwrapSchema(def.shape?.[String(segment)]);
    else if (def.type === 'record') def = unwrapSchema(def.valueType);
    else if (def.type === 'array') def = unwrapSchema(def.element);
    else return [];
  }
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const got = 'input' in issue ? issue.input : undefined;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (got === undefined) return `required field is missing (must be ${expected})`;
      return `must be ${expected} (got ${describeValue(got)})`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v)).join(', ');
      if (got === undefined) return `required field is missing (must be one of ${values})`;
      return `must be one of ${values} (got ${describeValue(got)})`;
    }
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `must not be empty`
        : `must be at least ${String(issue.minimum)} (got ${describeValue(got)})`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `is too long (at most ${String(issue.maximum)})`
        : `must be at most ${String(issue.maximum)} (got ${describeValue(got)})`;
    default:
      return issue.message;
  }
}

function isPathKey(segment: PropertyKey): segment is string | number {
  return typeof segment === 'string' || typeof segment === 'number';
}

/** The allowed word a typo most likely meant, if one is close enough. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  // One typo in a short word, one per four letters in a longer one.
  let bestDistance = Math.max(1, Math.floor(word.length / 4)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
