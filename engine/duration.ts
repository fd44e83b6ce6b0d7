import { PlumblineError } from './errors.ts';

/**
 * Durations as people write them in definitions and the daemon config:
 * `500ms`, `90s`, `10m`, `1h30m`, `2d`. Units go from largest to smallest,
 * each at most once, so every duration has one obvious spelling.
 */

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const PART = /(\d+)(ms|s|m|h|d)/y;

export const DURATION_EXAMPLES = '500ms, 90s, 10m, 1h30m, 2d';

export function parseDuration(text: string): number {
  const fail = (why: string): never => {
    throw new PlumblineError('E_DURATION', `invalid duration ${JSON.stringify(text)}: ${why}`, {
      hint: `durations look like ${DURATION_EXAMPLES}`,
    });
  };
  const syntax = `use whole numbers with a unit (ms, s, m, h, d), e.g. ${DURATION_EXAMPLES}`;
  if (text.length === 0) fail(syntax);
  let total = 0;
  let previousRank = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) return fail(syntax);
    const [, digits = '', unit = ''] = match;
    const rank = UNITS.findIndex(([name]) => name === unit);
    if (rank <= previousRank) fail('write each unit once, from largest to smallest (d, h, m, s, ms)');
    previousRank = rank;
    total += Number(digits) * (UNITS[rank]?.[1] ?? 0);
  }
  if (!Number.isSafeInteger(total)) fail('it is too large');
  return total;
}

/** The shortest spelling `parseDuration` reads back to the same value. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms}`);
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return out;
}
