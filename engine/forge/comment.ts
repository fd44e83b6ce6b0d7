import { formatSummary } from '../cli/output.ts';
import { planHref } from '../ui/format.ts';
import type { PreviewState, PreviewUnit } from './preview-types.ts';
import type { CommitStatus } from './types.ts';

/** Finds Plumbline's comment among a merge request's: hidden in the rendered page. */
export const COMMENT_MARKER = '<!-- plumbline:preview -->';
/** Lines of a unit's plan shown in the comment; the UI has the rest. */
const EXCERPT_LINES = 30;
/** A minified JSON value on one line would fill the comment alone. */
const MAX_LINE = 400;
/** The comment stays this far under the forge's limit (the cut notice, the forge's own counting). */
const LIMIT_MARGIN = 0.9;

export interface CommentLinks {
  /** The UI's origin (`api.publicUrl`, else the address the API listens on); no links without it. */
  uiBase?: string;
}

/** `plumbline/<unit>`: the commit status of a unit, on previews and on the watched branch alike. */
export function statusContext(unit: string): string {
  return `plumbline/${unit}`;
}

export function planLink(planId: string | undefined, links: CommentLinks): string | undefined {
  return planId && links.uiBase ? `${links.uiBase}${planHref(planId)}` : undefined;
}

/** A unit of a preview as a commit status: pending until planned, then success with the summary or failure with the error. */
export function previewStatus(unit: PreviewUnit, links: CommentLinks): CommitStatus {
  const targetUrl = planLink(unit.planId, links);
  const base = { context: statusContext(unit.name), ...(targetUrl ? { targetUrl } : {}) };
  switch (unit.status) {
    case 'Queued':
      return { ...base, state: 'pending', description: 'preview queued' };
    case 'Planning':
      return { ...base, state: 'pending', description: 'planning the preview' };
    case 'Preview':
      return { ...base, state: 'success', description: `preview: ${unit.summary ? formatSummary(unit.summary) : 'planned'}` };
    case 'Failed':
      return { ...base, state: 'failure', description: `preview failed: ${firstLine(unit.error ?? 'see the plan')}` };
  }
}

/**
 * The merge request's comment: the whole effect of the branch in dependency
 * order, per unit its summary and the first lines of its plan. Cut well under
 * `limit` characters, with a pointer to the rest.
 */
export function renderComment(preview: PreviewState, links: CommentLinks, limit: number): string {
  const budget = Math.floor(limit * LIMIT_MARGIN);
  const head = [
    COMMENT_MARKER,
    `### Plumbline preview`,
    '',
    `\`${preview.ref}\` at \`${preview.revision.slice(0, 12)}\` (merge base \`${preview.mergeBase.slice(0, 12)}\`): ${countUnits(preview.units.length)}, in dependency order.`,
    '',
  ].join('\n');
  const sections = preview.units.map((unit) => unitSection(unit, links));
  if (sections.length === 0) sections.push('This branch changes no unit.\n');
  let body = head;
  for (let i = 0; i < sections.length; i += 1) {
    const rest = cutNotice(preview, sections.length - i, links);
    if (body.length + sections[i]!.length + footer(links).length + rest.length > budget) return `${body}${rest}${footer(links)}`;
    body += sections[i]!;
  }
  return `${body}${footer(links)}`;
}

function unitSection(unit: PreviewUnit, links: CommentLinks): string {
  const link = planLink(unit.planId, links);
  const name = link ? `[\`${unit.name}\`](${link})` : `\`${unit.name}\``;
  const lines = [`#### ${name} (${unit.kind}): ${headline(unit)}`, ''];
  const text = unit.status === 'Failed' ? unit.error : unit.excerpt;
  if (text && text.trim() !== '') {
    const all = text.replace(/\s+$/, '').split('\n');
    const shown = all.slice(0, EXCERPT_LINES).map((line) => (line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)} ...` : line));
    if (all.length > shown.length) shown.push(`... ${all.length - shown.length} more line(s)${link ? ' in the full plan' : ''}`);
    const fence = fenceFor(shown.join('\n'));
    lines.push('<details><summary>Plan</summary>', '', `${fence}${unit.status === 'Failed' ? 'text' : 'diff'}`, ...shown, fence, '', '</details>', '');
  }
  return `${lines.join('\n')}\n`;
}

function headline(unit: PreviewUnit): string {
  switch (unit.status) {
    case 'Queued':
      return 'queued';
    case 'Planning':
      return 'planning';
    case 'Preview':
      return unit.summary ? `\`${formatSummary(unit.summary)}\`` : 'planned';
    case 'Failed':
      return `**failed**: ${firstLine(unit.error ?? 'see the plan')}`;
  }
}

function cutNotice(preview: PreviewState, left: number, links: CommentLinks): string {
  const where = links.uiBase ? `the Plumbline UI (${links.uiBase}/ui/)` : 'Plumbline';
  return `\n**${countUnits(left)} more not shown here** (the comment would be too long): see ${where}, or run \`plumbline previews ${preview.ref}\`.\n`;
}

function footer(links: CommentLinks): string {
  return links.uiBase ? `\n---\nPosted by Plumbline: [the UI](${links.uiBase}/ui/). Previews never apply.\n` : '\n---\nPosted by Plumbline. Previews never apply.\n';
}

function countUnits(n: number): string {
  return `${n} unit${n === 1 ? '' : 's'}`;
}

export function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/** A code fence longer than any run of backticks in the text, so a plan can never close it. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}
