import { z } from 'zod';

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

export function errorDiagnostics(messages: readonly UiMessage[]): Diagnostic[] {
  return messages.flatMap((m) => (m.type === 'diagnostic' && m.diagnostic?.severity === 'error' ? [m.diagnostic] : []));
}

/** `Unclosed configuration block: There is no closing brace... (main.tf line 1)`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.range ? ` (${d.range.filename} line ${d.range.start.line})` : d.address ? ` (${d.address})` : '';
  const detail = d.detail?.trim() ? `: ${d.detail.trim()}` : '';
  return `${d.summary.trim()}${detail}${where}`;
}

/** The apply's closing summary (`Apply complete! Resources: 1 added, 0 changed, 0 destroyed.`). */
export function applySummary(messages: readonly UiMessage[]): string | undefined {
  const summary = messages.filter((m) => m.type === 'change_summary').at(-1);
  return summary?.['@message'];
}
