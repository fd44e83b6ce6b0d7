/**
 * Typed errors. Every error Plumbline raises has a stable `code` that scripts
 * and tests can match, a `hint` that tells a person how to fix it, and the
 * original `cause`. Its `retry` class decides what the engine does next:
 *
 * - `stalled`: retrying cannot help; a person must change something
 *   (a definition, the Terraform code, the config). The unit waits for a new
 *   commit or an explicit sync.
 * - `waiting`: a precondition is not met yet (a lock is held, an upstream is
 *   not applied); try again later at the normal pace.
 * - `transient`: the environment hiccupped (network, timeout); retry with
 *   backoff.
 */
export type RetryClass = 'stalled' | 'waiting' | 'transient';

/**
 * Every code an error may carry. Empty here: each owner of codes (the engine's
 * areas, each provider) declares its own in a table (`ErrorCodeTable`) and
 * merges its keys in with `declare module` on this file, so a code that no
 * table lists fails the typecheck where it is raised or compared. docs/errors.md
 * prints the tables (`npm run docs`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging, never used as a value
export interface ErrorCodeRegistry {}

export type ErrorCode = keyof ErrorCodeRegistry;

/** What the docs say of one code: the retry class it usually has (a raise site may pass another) and what it means to the user. */
export interface ErrorCodeDoc {
  readonly retry: RetryClass;
  /** One sentence a person can act on. */
  readonly meaning: string;
}

/** One owner's codes: `E_` and capitals, each with its doc. */
export type ErrorCodeTable = Readonly<Record<`E_${string}`, ErrorCodeDoc>>;

export interface PlumblineErrorOptions {
  hint?: string;
  cause?: unknown;
  retry?: RetryClass;
  /** Extra structured context that is safe to log (never secrets). */
  details?: Record<string, unknown>;
}

export class PlumblineError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retry: RetryClass;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: PlumblineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.retry = options.retry ?? 'stalled';
    this.details = options.details;
  }

  /** The shape the API and the CLI print: no stack, no cause internals. */
  toJSON(): { code: ErrorCode; message: string; hint?: string; retry: RetryClass } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      retry: this.retry,
    };
  }
}

/** A definition or config file is invalid: the user must edit it. */
export class ValidationError extends PlumblineError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[], options: PlumblineErrorOptions = {}) {
    const first = problems[0];
    const summary = first ? formatProblem(first) : 'invalid input';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('E_VALIDATION', `${summary}${more}`, { retry: 'stalled', ...options });
    this.problems = problems;
  }
}

/** A subprocess (terraform, git, ansible-playbook, npm, tar) failed. */
export class ToolError extends PlumblineError {}

/** A request to the engine that cannot be honoured (approve a superseded plan...). */
export class ConflictError extends PlumblineError {}

export class NotFoundError extends PlumblineError {}

/** One finding about a file, pointing at the place to fix. */
export interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
  /** An error makes the unit invalid; a warning is shown and changes nothing. Error when absent. */
  severity?: 'error' | 'warning';
  /** The unit the file defines or belongs to, when known. */
  unit?: string;
  /** A manifest field the problem is about (`['vars', 'region']`): its line is found from it. */
  field?: readonly (string | number)[];
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

export function isError(p: Problem): boolean {
  return p.severity !== 'warning';
}

export function isPlumblineError(error: unknown): error is PlumblineError {
  return error instanceof PlumblineError;
}

/** Wrap anything thrown into a PlumblineError, keeping the original as cause. */
export function asPlumblineError(error: unknown, code: ErrorCode = 'E_INTERNAL'): PlumblineError {
  if (error instanceof PlumblineError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new PlumblineError('E_ABORTED', 'the run was cancelled', { cause: error, retry: 'transient' });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PlumblineError(code, message, {
    cause: error,
    hint: 'this is a bug in Plumbline if it keeps happening; please report it with the daemon log',
    retry: 'transient',
  });
}
