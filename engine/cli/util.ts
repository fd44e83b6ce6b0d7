import { InvalidArgumentError, type Command } from 'commander';
import type { Output } from './output.ts';

export interface CommandContext {
  out: Output;
  setExitCode(code: number): void;
}

/**
 * Wrap a command body: its return value becomes the exit code, and anything it
 * throws is printed (as `error:` / `hint:` on stderr, or as JSON with `--json`)
 * with exit code 1.
 */
export function action<A extends unknown[]>(
  ctx: CommandContext,
  body: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      ctx.setExitCode(await body(...args));
    } catch (error) {
      ctx.out.error(error, wantsJson(args) ? 'json' : 'text');
      ctx.setExitCode(1);
    }
  };
}

/** Commander passes the command's options just before the command itself, last. */
function wantsJson(args: readonly unknown[]): boolean {
  const options = args.at(-2);
  return typeof options === 'object' && options !== null && (options as { json?: unknown }).json === true;
}

/** Commander option parser for an integer in [min, max]. */
export function integerOption(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^-?[0-9]+$/.test(value.trim())) throw new InvalidArgumentError('not an integer.');
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}.`);
    return n;
  };
}

/** `--limit N --before SEQ`: a page of history events, newest first. */
export function eventPaging(cmd: Command, noun: string): Command {
  return cmd
    .option('--limit <n>', `at most this many ${noun} (default 200)`, integerOption(1, 10_000))
    .option('--before <seq>', `the ${noun} older than this sequence number (the next page)`, integerOption(1, Number.MAX_SAFE_INTEGER));
}
