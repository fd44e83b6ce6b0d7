import { PlumblineError, asPlumblineError } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * A run is an ordered list of named steps over one context. Each step is logged
 * with its duration; a failure names the step it happened in, keeps its error
 * class, and stops the run.
 */
export interface Step<C> {
  name: string;
  run(context: C): Promise<void>;
}

export class StepError extends PlumblineError {
  constructor(
    readonly step: string,
    readonly error: PlumblineError,
  ) {
    super(error.code, error.message, { hint: error.hint, retry: error.retry, cause: error, details: error.details });
  }
}

export async function runSteps<C>(context: C, steps: readonly Step<C>[], log: Logger): Promise<void> {
  for (const step of steps) {
    const started = performance.now();
    log.debug({ step: step.name }, 'step started');
    try {
      await step.run(context);
    } catch (error) {
      const typed = asPlumblineError(error);
      log.debug({ step: step.name, code: typed.code, ms: Math.round(performance.now() - started) }, 'step failed');
      throw new StepError(step.name, typed);
    }
    log.debug({ step: step.name, ms: Math.round(performance.now() - started) }, 'step finished');
  }
}
