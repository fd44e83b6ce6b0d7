import type { HistoryEvent } from '../../model.ts';
import { planHref, shortRevision, timeEl, unitHref } from '../format.ts';
import { html, query, type Html } from '../html.ts';
import { page, type Viewer } from '../layout.ts';

/** History and audit: newest first, a page at a time (`before` is the last sequence number shown). */
export function eventsPage(kind: 'history' | 'audit', events: HistoryEvent[], options: { unit?: string; limit: number }, viewer: Viewer): Html {
  const title = kind === 'audit' ? 'Audit' : 'History';
  const last = events.at(-1);
  const more = events.length === options.limit && last ? `/ui/${kind}${query({ unit: options.unit, before: last.seq })}` : undefined;
  const body = html`<h1>${title}${options.unit ? html` of <span class="mono">${options.unit}</span>` : ''}</h1>
<p class="muted">${kind === 'audit' ? 'Every decision taken through the API or this UI, with the token or person who took it and where the request came from.' : 'Everything that happened, newest first.'}</p>
${eventsTable(events)}
${more ? html`<p class="pager"><a href="${more}">Older events</a></p>` : ''}`;
  return page({ title, viewer, current: `/ui/${kind}`, body });
}

export function eventsTable(events: HistoryEvent[]): Html {
  if (events.length === 0) return html`<p class="muted">No events.</p>`;
  return html`<table><thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Unit</th><th scope="col">Who</th><th scope="col">What</th></tr></thead>
<tbody>${events.map(
    (e) => html`<tr><td>${timeEl(e.at)}</td><td>${e.type}</td><td>${e.unit ? html`<a href="${unitHref(e.unit)}">${e.unit}</a>` : '-'}</td><td>${e.actor ?? '-'}${e.remote ? html` <span class="muted">from ${e.remote}</span>` : ''}</td><td>${e.message}${e.planId ? html` <a href="${planHref(e.planId)}" class="mono">${e.planId}</a>` : ''}${e.revision && !e.planId ? html` <span class="mono muted">${shortRevision(e.revision)}</span>` : ''}</td></tr>`,
  )}</tbody></table>`;
}
