import { summarize, type Summary } from './stats.ts';

export type FigureUnit = 'count' | 'ms' | 's' | 'MiB' | 'ratio' | 'cpu-ms';

export interface Goal {
  text: string;
  /** Judged on the median unless `all` (every repetition must meet it: counts). */
  test: (value: number) => boolean;
  all?: boolean;
}

export interface Figure {
  id: string;
  label: string;
  unit: FigureUnit;
  samples: number[];
  summary: Summary;
  goal?: { text: string; met: boolean };
}

export interface ScenarioResult {
  id: string;
  title: string;
  figures: Figure[];
  /** Breakdowns, warm-up times, settings: everything BENCHMARKS.md quotes besides the table. */
  details: Record<string, unknown>;
  notes: string[];
  error?: string;
  wallSeconds?: number;
}

export function figure(id: string, label: string, unit: FigureUnit, samples: number[], goal?: Goal): Figure {
  const summary = summarize(samples);
  const out: Figure = { id, label, unit, samples, summary };
  if (goal) {
    const met = samples.length > 0 && (goal.all ? samples.every(goal.test) : goal.test(summary.median));
    out.goal = { text: goal.text, met };
  }
  return out;
}

export function formatValue(value: number, unit: FigureUnit): string {
  if (!Number.isFinite(value)) return '-';
  switch (unit) {
    case 'count':
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
    case 'ms':
    case 'cpu-ms':
      return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
    case 's':
      return `${value.toFixed(value >= 100 ? 0 : 1)} s`;
    case 'MiB':
      return `${value.toFixed(1)} MiB`;
    case 'ratio':
      return `${value.toFixed(2)}x`;
  }
}

/** A plain-text table, one row per figure. */
export function renderTable(results: readonly ScenarioResult[]): string {
  const header = ['scenario', 'figure', 'median', 'min', 'max', 'n', 'goal', 'met'];
  const rows: string[][] = [];
  for (const r of results) {
    if (r.error) rows.push([r.title, `FAILED: ${r.error.split('\n')[0]!.slice(0, 90)}`, '', '', '', '', '', '']);
    for (const f of r.figures) {
      rows.push([
        r.title,
        f.label,
        formatValue(f.summary.median, f.unit),
        formatValue(f.summary.min, f.unit),
        formatValue(f.summary.max, f.unit),
        String(f.summary.n),
        f.goal?.text ?? '',
        f.goal ? (f.goal.met ? 'yes' : 'NO') : '',
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same as a Markdown table, for BENCHMARKS.md. */
export function renderMarkdown(results: readonly ScenarioResult[]): string {
  const out = ['| scenario | figure | median | min | max | n | goal | met |', '| --- | --- | ---: | ---: | ---: | ---: | --- | --- |'];
  for (const r of results) {
    for (const f of r.figures) {
      out.push(
        `| ${r.title} | ${f.label} | ${formatValue(f.summary.median, f.unit)} | ${formatValue(f.summary.min, f.unit)} | ${formatValue(f.summary.max, f.unit)} | ${f.summary.n} | ${f.goal?.text ?? ''} | ${f.goal ? (f.goal.met ? 'yes' : '**no**') : ''} |`,
      );
    }
  }
  return out.join('\n');
}
