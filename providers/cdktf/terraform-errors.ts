import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { PlumblineError, ToolError } from '../../engine/provider-kit.ts';
import { DiagnosticSchema } from '../terraform/diagnostics.ts';
import { addressOfPath, blockAddress, elementsOf, jsonPathAtLine, type ElementSource } from './source-map.ts';

/**
 * Terraform errors of a CDKTF stack name the generated cdk.tf.json, which
 * nobody edits: point them at the TypeScript that created the block instead.
 * Reads the structured diagnostics the Terraform tooling attaches to its
 * errors (`details.diagnostics`), and falls back to the message text.
 */

/** The synthesized file Terraform reads. */
export const SYNTHESIZED_FILE = 'cdk.tf.json';

// The shape the Terraform tooling keeps its diagnostics in (`details.diagnostics` of its errors).
const diagnosticSchema = DiagnosticSchema;
type Diagnostic = z.infer<typeof diagnosticSchema>;

/** What one diagnostic was mapped to: the block it concerns and the app's line that made it. */
export interface MappedDiagnostic extends Diagnostic {
  source?: ElementSource;
}

/** The synthesized stack, read once per error. */
export interface SynthesizedStack {
  text: string;
  elements: Map<string, ElementSource>;
}

export async function readSynthesized(stackDir: string): Promise<SynthesizedStack | null> {
  const text = await readFile(join(stackDir, SYNTHESIZED_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return { text, elements: elementsOf(JSON.parse(text)) };
  } catch {
    return null;
  }
}

/** The block a diagnostic is about: its address, else the block around its line of cdk.tf.json. */
export function sourceOf(diagnostic: Pick<Diagnostic, 'address' | 'range'>, stack: SynthesizedStack): ElementSource | undefined {
  if (diagnostic.address) {
    const element = stack.elements.get(blockAddress(diagnostic.address));
    if (element) return element;
  }
  if (diagnostic.range && isSynthesizedFile(diagnostic.range.filename)) return sourceAtLine(diagnostic.range.start.line, stack);
  return undefined;
}

function sourceAtLine(line: number, stack: SynthesizedStack): ElementSource | undefined {
  const path = jsonPathAtLine(stack.text, line);
  const address = path ? addressOfPath(path) : null;
  return address ? (stack.elements.get(address) ?? { address }) : undefined;
}

function isSynthesizedFile(filename: string): boolean {
  return filename === SYNTHESIZED_FILE || filename.endsWith(`/${SYNTHESIZED_FILE}`);
}

/** `stacks/web/main.ts:12:5: <summary>: <detail> (aws_vpc.vpc, construct web/vpc)`. */
export function formatMapped(diagnostic: MappedDiagnostic): string {
  const { source } = diagnostic;
  const detail = diagnostic.detail?.trim() ? `: ${diagnostic.detail.trim()}` : '';
  const where = source?.location ? `${source.location.file}:${source.location.line}:${source.location.column}: ` : '';
  const what = [source?.address ?? diagnostic.address, source?.constructPath ? `construct ${source.constructPath}` : undefined].filter(Boolean);
  return `${where}${diagnostic.summary.trim()}${detail}${what.length > 0 ? ` (${what.join(', ')})` : ''}`;
}

/**
 * The same error, its message and hint about the app's TypeScript. Errors that
 * do not concern cdk.tf.json come back unchanged.
 */
export async function pointAtTypeScript(error: unknown, stackDir: string): Promise<unknown> {
  if (!(error instanceof PlumblineError)) return error;
  const parsed = z.array(diagnosticSchema).safeParse(error.details?.diagnostics);
  const diagnostics = parsed.success ? parsed.data : [];
  const mentionsFile = error.message.includes(SYNTHESIZED_FILE);
  if (!mentionsFile && !diagnostics.some((d) => d.address || (d.range && isSynthesizedFile(d.range.filename)))) return error;
  const stack = await readSynthesized(stackDir);
  if (!stack) return error;

  let message: string;
  let mapped: MappedDiagnostic[] = [];
  if (diagnostics.length > 0) {
    mapped = diagnostics.map((d) => ({ ...d, ...withSource(sourceOf(d, stack)) }));
    const errors = mapped.filter((d) => d.severity === 'error');
    message = [...new Set((errors.length > 0 ? errors : mapped).map(formatMapped))].join('\n');
  } else {
    message = replaceFileMentions(error.message, stack);
  }
  const first = mapped.find((d) => d.source?.location)?.source ?? firstMentioned(error.message, stack);
  const hint = first?.location
    ? `${first.location.file}:${first.location.line} creates ${first.address}${first.constructPath ? ` (construct ${first.constructPath})` : ''}: ` +
      `fix it there and commit; Terraform checked the configuration the CDKTF app synthesized from it`
    : error.hint;
  return new ToolError(error.code, message, {
    retry: error.retry,
    hint,
    cause: error,
    details: {
      ...error.details,
      ...(mapped.length > 0 ? { diagnostics: mapped } : {}),
      ...(first?.location ? { file: first.location.file, line: first.location.line, column: first.location.column } : {}),
    },
  });
}

function withSource(source: ElementSource | undefined): { source?: ElementSource } {
  return source ? { source } : {};
}

/** `cdk.tf.json line 42` or `cdk.tf.json:42` in a message. */
const FILE_MENTION = /\bcdk\.tf\.json(?: line |:)(\d+)(?::\d+)?/g;

/** Message text without structured diagnostics: each mention of a line of cdk.tf.json becomes the TypeScript line. */
export function replaceFileMentions(message: string, stack: SynthesizedStack): string {
  return message.replace(FILE_MENTION, (mention, line: string) => {
    const source = sourceAtLine(Number(line), stack);
    if (!source) return mention;
    const where = source.location ? `${source.location.file}:${source.location.line}:${source.location.column}, ` : '';
    return `${where}${source.address}${source.constructPath ? `, construct ${source.constructPath}` : ''}`;
  });
}

function firstMentioned(message: string, stack: SynthesizedStack): ElementSource | undefined {
  for (const match of message.matchAll(FILE_MENTION)) {
    const source = sourceAtLine(Number(match[1]), stack);
    if (source?.location) return source;
  }
  return undefined;
}

/** Terraform's warnings about the synthesized stack, each mention of cdk.tf.json replaced by the TypeScript line. */
export async function pointWarningsAtTypeScript(warnings: readonly string[], stackDir: string): Promise<string[]> {
  if (!warnings.some((w) => w.includes(SYNTHESIZED_FILE))) return [...warnings];
  const stack = await readSynthesized(stackDir);
  return stack ? warnings.map((w) => replaceFileMentions(w, stack)) : [...warnings];
}
