import { Writable } from 'node:stream';
import { answerStatus, errorBody } from '../api/error-body.ts';
import { asPlumblineError, formatProblem, ValidationError, type RetryClass } from '../errors.ts';
import type { ChangeSummary } from '../model.ts';
import type { CliIO } from './types.ts';

export const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  // Read when printing: a terminal can be resized while a command runs.
  get columns() {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  },
};

/** What trying the same command again would do, for people. */
const RETRY_TEXT: Record<RetryClass, string> = {
  transient: 'transient (the same command may work in a moment)',
  waiting: 'waiting (the same command may work once what it waits for is done)',
  stalled: 'stalled (trying again will not help until something is fixed)',
};

/** Line-oriented printing on top of a CliIO. */
export class Output {
  constructor(readonly io: CliIO) {}

  line(text = ''): void {
    this.io.stdout(`${text}\n`);
  }

  note(text: string): void {
    this.io.stderr(`${text}\n`);
  }

  json(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A table fitted to the terminal (see `table`), or `empty` when there are no rows. */
  table(columns: readonly Column[], rows: readonly (readonly string[])[], empty: string): void {
    this.line(rows.length === 0 ? empty : table(columns, rows, { width: this.width }));
  }

  /** Width to fit tables to: the terminal's, or none when stdout is not a terminal. */
  get width(): number | undefined {
    return this.io.columns;
  }

  /**
   * An error. As text, `error: <message>`, validation problems one per line,
   * `hint: <hint>` and, where trying again can help, `retry:`, on stderr. As
   * JSON (`--json`), `{"error": ...}` on stdout, the shape of the API's error
   * answers, so a script parses one format whatever happened.
   */
  error(error: unknown, format: 'text' | 'json' = 'text'): void {
    const e = asPlumblineError(error);
    const body = errorBody(e, answerStatus(e));
    if (format === 'json') {
      this.json({ error: body });
      return;
    }
    this.note(`error: ${e.message}`);
    if (e instanceof ValidationError && e.problems.length > 1) {
      for (const p of e.problems) this.note(`  ${formatProblem(p)}`);
    }
    if (e.hint) this.note(`hint: ${e.hint}`);
    if (body.retry) this.note(`retry: ${RETRY_TEXT[body.retry]}`);
  }

  /** A stream (for loggers) that ends up on this output's stderr. */
  stderrStream(): NodeJS.WritableStream {
    const io = this.io;
    return new Writable({
      write(chunk: Buffer, _encoding, callback) {
        io.stderr(chunk.toString('utf8'));
        callback();
      },
    });
  }
}

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Below this many columns left for it, the last cell is not wrapped (the terminal wraps it). */
const MIN_WRAP_WIDTH = 24;

/**
 * Compact aligned table: two spaces between columns, no trailing blanks. With
 * `width` (a terminal's), the last column wraps to fit, its continuation lines
 * aligned under it; nothing is ever cut.
 */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[], options: { width?: number } = {}): string {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const last = columns.length - 1;
  const indent = widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0);
  const room = options.width === undefined ? undefined : options.width - indent;
  const wrapAt = room !== undefined && room >= MIN_WRAP_WIDTH && widths[last]! > room ? room : undefined;
  const render = (cells: readonly string[]): string => {
    const [first, ...rest] = wrapAt === undefined ? [cells[last] ?? ''] : wrapText(cells[last] ?? '', wrapAt);
    const line = [...cells.slice(0, last), first!]
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - width(cell)));
        return columns[i]?.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
    return [line, ...rest.map((more) => ' '.repeat(indent) + more)].join('\n');
  };
  return [render(columns.map((c) => c.header)), ...rows.map(render)].join('\n');
}

/** Word-wrap to `max` characters a line; a word longer than a line is split, never dropped. */
export function wrapText(text: string, max: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = [...word];
    if (current && width(current) + 1 + rest.length <= max) {
      current += ` ${word}`;
      continue;
    }
    if (current) lines.push(current);
    while (rest.length > max) {
      lines.push(rest.slice(0, max).join(''));
      rest = rest.slice(max);
    }
    current = rest.join('');
  }
  lines.push(current);
  return lines;
}

function width(text: string): number {
  return [...text].length;
}

export function shortRevision(revision: string | null | undefined): string {
  return revision ? revision.slice(0, 8) : '-';
}

/** `2024-05-01T10:00:00.123Z` -> `2024-05-01 10:00:00Z`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function formatSummary(s: ChangeSummary): string {
  return `+${s.add} ~${s.change} -${s.destroy} ±${s.replace}`;
}

/**
 * A message as one table cell, never cut: its last sentence usually says what
 * to do. A message of several lines (a tool's error, then the hint) keeps its
 * first line, what happened, and its last, what to do; `--json` and
 * `plumbline show` have the rest.
 */
export function messageCell(text: string | null | undefined): string {
  const lines = (text ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.length <= 2 ? lines.join(' ') : `${lines[0]} … ${lines.at(-1)}`;
}
