import { Writable } from 'node:stream';
import { asPlumblineError, formatProblem, ValidationError } from '../errors.ts';
import type { ChangeSummary } from '../model.ts';
import type { CliIO } from './types.ts';

export const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
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

  /** `error: <message>` and `hint: <hint>` on stderr; validation problems one per line. */
  error(error: unknown): void {
    const e = asPlumblineError(error);
    this.note(`error: ${e.message}`);
    if (e instanceof ValidationError && e.problems.length > 1) {
      for (const p of e.problems) this.note(`  ${formatProblem(p)}`);
    }
    if (e.hint) this.note(`hint: ${e.hint}`);
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

/** Compact aligned table: two spaces between columns, no trailing blanks. */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - width(cell)));
        return columns[i]?.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [render(columns.map((c) => c.header)), ...rows.map(render)].join('\n');
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

/** First line of a message, shortened for a table cell. */
export function oneLine(text: string | null | undefined, max = 100): string {
  if (!text) return '';
  const first = text.split(/\r?\n/, 1)[0]!.trim();
  const chars = [...first];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : first;
}
