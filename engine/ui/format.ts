import type { ChangeSummary } from '../model.ts';
import { html, type Html } from './html.ts';

/** Small renderings every page shares. */

export function shortRevision(revision: string | null | undefined): string {
  return revision ? revision.slice(0, 8) : '-';
}

/** `2026-03-01 12:00:05Z`: UTC, to the second, the way the CLI prints times. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function timeEl(iso: string | null | undefined): Html {
  return iso ? html`<time datetime="${iso}">${when(iso)}</time>` : html`-`;
}

export function phaseBadge(phase: string, unit?: string): Html {
  return html`<span class="phase phase-${phase}"${unit !== undefined ? html` data-unit-phase="${unit}"` : ''}>${phase}</span>`;
}

export function statusBadge(status: string): Html {
  return html`<span class="phase status-${status}">${status}</span>`;
}

/** `+1 ~2 -0 ±1`, with the words for screen readers. */
export function summaryText(s: ChangeSummary): Html {
  return html`<span class="mono" title="${s.add} to add, ${s.change} to change, ${s.destroy} to destroy, ${s.replace} to replace">+${s.add} ~${s.change} -${s.destroy} ±${s.replace}</span>`;
}

export function unitHref(name: string): string {
  return `/ui/unit?name=${encodeURIComponent(name)}`;
}

export function planHref(id: string): string {
  return `/ui/plans/${encodeURIComponent(id)}`;
}

export function changeSetHref(id: string): string {
  return `/ui/changesets/${encodeURIComponent(id)}`;
}
