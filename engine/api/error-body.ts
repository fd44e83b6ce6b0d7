import { ConflictError, type ErrorCode, NotFoundError, ValidationError, type PlumblineError, type Problem, type RetryClass } from '../errors.ts';

/** An error as the API answers it (`{"error": ...}`) and as `--json` commands print it. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  hint?: string;
  /** Present only where trying again can change the answer: see retryOf. */
  retry?: RetryClass;
  problems?: Problem[];
}

/**
 * The retry class worth telling a client, or undefined. An answer about the
 * request itself (bad input, authentication, no such plan, a conflict, a body
 * too large: every 4xx) is final: the same request gets the same answer, and a
 * retry class there would only mislead a script into looping. A failure of the
 * daemon (5xx) says whether trying again can help. Without an HTTP status (an
 * error raised before or instead of an answer: no daemon at that address, a
 * timeout) the class is told only when trying again may work.
 */
export function retryOf(error: PlumblineError, status?: number): RetryClass | undefined {
  if (status !== undefined) return status >= 500 ? error.retry : undefined;
  if (error instanceof NotFoundError || error instanceof ConflictError || error instanceof ValidationError) return undefined;
  return error.retry === 'stalled' ? undefined : error.retry;
}

export function errorBody(error: PlumblineError, status?: number): ErrorBody {
  const retry = retryOf(error, status);
  return {
    code: error.code,
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    ...(retry ? { retry } : {}),
    ...(error instanceof ValidationError ? { problems: [...error.problems] } : {}),
  };
}

/** The HTTP status an error came back with, when the API client raised it from an answer. */
export function answerStatus(error: PlumblineError): number | undefined {
  const status = error.details?.status;
  return typeof status === 'number' ? status : undefined;
}
