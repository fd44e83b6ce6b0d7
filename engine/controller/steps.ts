import { PlumblineError, asPlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * A run is an ordered list of steps, each a function returning a typed
 * result that the next step takes. `step` logs each with its duration; a
 * failure names the step it happened in and keeps its error class. Steps
 * never write state: a run ends in one result that the transitions record.
 */
export class StepError extends PlumblineError {
  constructor(
    readonly step: string,
    readonly error: PlumblineError,
  ) {
    super(error.code, error.message, { hint: error.hint, retry: error.retry, cause: error, details: error.details });
  }
}

export async function step<T>(log: Logger, name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  log.debug({ step: name }, 'step started');
  try {
    const result = await run();
    log.debug({ step: name, ms: Math.round(performance.now() - started) }, 'step finished');
    return result;
  } catch (error) {
    const typed = asPlumblineError(error);
    log.debug({ step: name, code: typed.code, ms: Math.round(performance.now() - started) }, 'step failed');
    throw new StepError(name, typed);
  }
}

/** The typed error behind a step failure. */
export function unwrap(error: unknown): PlumblineError {
  return error instanceof StepError ? error.error : asPlumblineError(error);
}
