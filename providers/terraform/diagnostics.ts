import { z } from 'zod';
import { type SecretRegistry, secrets as globalSecrets } from '../../engine/provider-kit.ts';
import { repoPath, repoText, type PathContext } from './repo-paths.ts';

/**
 * Terraform's machine-readable UI stream (`init|plan|apply -json`): one JSON
 * object per line. Plumbline reads the diagnostics (for error messages and
 * classification) and the apply's change summary from it; a few lines init
 * prints as plain text are skipped.
 */

export const DiagnosticSchema = z.looseObject({
  severity: z.string(),
  summary: z.string(),
  detail: z.string().optional(),
  address: z.string().optional(),
  range: z
    .looseObject({
      filename: z.string(),
      start: z.looseObject({ line: z.number(), column: z.number() }),
    })
    .optional(),
});
export type Diagnostic = z.infer<typeof DiagnosticSchema>;

export const ChangeSummaryMessageSchema = z.looseObject({
  add: z.number(),
  change: z.number(),
  remove: z.number(),
  import: z.number().optional(),
  operation: z.string(),
});

export const UiMessageSchema = z.looseObject({
  type: z.string(),
  '@level': z.string().optional(),
  '@message': z.string().optional(),
  diagnostic: DiagnosticSchema.optional(),
  changes: ChangeSummaryMessageSchema.optional(),
});
export type UiMessage = z.infer<typeof UiMessageSchema>;

export function parseUiStream(stdout: string): UiMessage[] {
  const messages: UiMessage[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = UiMessageSchema.safeParse(data);
    if (parsed.success) messages.push(parsed.data);
  }
  return messages;
}

export type Severity = 'error' | 'warning';

/** The diagnostics of one severity, in the order terraform printed them. */
export function diagnosticsOf(messages: readonly UiMessage[], severity: Severity): Diagnostic[] {
  return messages.flatMap((m) => (m.type === 'diagnostic' && m.diagnostic?.severity === severity ? [m.diagnostic] : []));
}

/**
 * A diagnostic as Plumbline shows it: masked, every path repository-relative.
 * Errors carry these in `details.diagnostics`, so a tool that generated the
 * configuration (CDKTF) can map them back to its own sources.
 */
export interface DiagnosticView {
  severity: string;
  summary: string;
  detail?: string;
  /** The object terraform was working on (`module.vpc.aws_subnet.private[0]`). */
  address?: string;
  range?: { filename: string; start: { line: number; column: number } };
}

/**
 * Terraform's diagnostics for people: masked, paths repository-relative,
 * identical ones once (a failing `count` repeats the same error per
 * instance), in file order (those without a place first, as printed).
 */
export function presentDiagnostics(diagnostics: readonly Diagnostic[], context?: PathContext, registry: SecretRegistry = globalSecrets): DiagnosticView[] {
  const text = (value: string): string => registry.maskText(repoText(value, context));
  const seen = new Set<string>();
  const views: DiagnosticView[] = [];
  for (const d of diagnostics) {
    const view: DiagnosticView = { severity: d.severity, summary: text(d.summary.trim()) };
    const detail = d.detail?.trim();
    if (detail) view.detail = text(detail);
    if (d.address) view.address = registry.maskText(d.address);
    if (d.range) {
      const { line, column } = d.range.start;
      view.range = { filename: registry.maskText(repoPath(d.range.filename, context)), start: { line, column } };
    }
    const key = `${view.severity}\n${formatDiagnostic(view)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    views.push(view);
  }
  const placed = views.filter((v) => v.range).sort(byPlace);
  return [...views.filter((v) => !v.range), ...placed];
}

function byPlace(a: DiagnosticView, b: DiagnosticView): number {
  const ra = a.range!;
  const rb = b.range!;
  return (
    ra.filename.localeCompare(rb.filename) ||
    ra.start.line - rb.start.line ||
    ra.start.column - rb.start.column ||
    (a.address ?? '').localeCompare(b.address ?? '', 'en', { numeric: true })
  );
}

/**
 * One line per diagnostic, placed as terraform places it:
 * `Invalid CIDR (with module.sg.aws_security_group.this[1], on modules/sg/main.tf line 14, column 37): detail`.
 */
export function formatDiagnostic(d: DiagnosticView): string {
  const where = [
    ...(d.address ? [`with ${d.address}`] : []),
    ...(d.range ? [`on ${locationOf(d.range)}`] : []),
  ];
  const placed = where.length > 0 ? ` (${where.join(', ')})` : '';
  return `${d.summary}${placed}${d.detail ? `: ${d.detail}` : ''}`;
}

/** `modules/sg/main.tf line 14, column 37`. */
export function locationOf(range: NonNullable<DiagnosticView['range']>): string {
  return `${range.filename} line ${range.start.line}, column ${range.start.column}`;
}

/** The apply's closing summary (`Apply complete! Resources: 1 added, 0 changed, 0 destroyed.`). */
export function applySummary(messages: readonly UiMessage[]): string | undefined {
  const summary = messages.filter((m) => m.type === 'change_summary').at(-1);
  return summary?.['@message'];
}
