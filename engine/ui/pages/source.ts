import type { ChangeSet, HistoryEvent, SourceStatus } from '../../model.ts';
import { changeSetHref, phaseBadge, shortRevision, timeEl } from '../format.ts';
import { html, type Html } from '../html.ts';
import { page, type Viewer } from '../layout.ts';
import { eventsTable } from './history.ts';

/** What to do about a stalled source, by its reason. */
const REMEDIES: Record<string, string> = {
  UntrustedCommit:
    'Push a commit signed by a trusted key on top, or trust the signing key (source.verify.allowedSigners or keyring). Nothing of the untrusted commit is planned until then.',
  HistoryRewritten:
    'The branch no longer contains the last reconciled commit. If the rewrite was intended, accept it with: plumbline sync --allow-rewrite (an admin).',
  VerificationFailed: 'The signature check itself could not run: see the message, fix the trust file or the tools, and the next poll checks again.',
  FetchFailed: 'The repository could not be fetched: check the URL, the network and the credentials; the next poll tries again.',
};

export function sourceBanner(source: SourceStatus): Html {
  if (source.phase !== 'Stalled' && source.reason !== 'FetchFailed' && source.reason !== 'VerificationFailed') return html``;
  return html`<div class="banner error" role="status"><strong>Source ${source.phase}: ${source.reason}.</strong> ${source.message} <a href="/ui/source">What to do</a></div>`;
}

/** The watched repository: revisions fetched and reconciled, and when stalled, why and what to do. */
export function sourcePage(source: SourceStatus, changeSets: ChangeSet[], events: HistoryEvent[], viewer: Viewer): Html {
  const remedy = REMEDIES[source.reason];
  const body = html`<h1>Source</h1>
<dl class="facts">
<dt>Repository</dt><dd class="mono">${source.url}</dd>
<dt>Branch</dt><dd class="mono">${source.branch}</dd>
<dt>Phase</dt><dd>${phaseBadge(source.phase)} ${source.reason}</dd>
<dt>Message</dt><dd>${source.message || '-'}</dd>
<dt>Last fetched revision</dt><dd class="mono">${source.lastFetchedRevision ?? '-'}</dd>
<dt>Last reconciled revision</dt><dd class="mono">${source.lastReconciledRevision ?? '-'}</dd>
<dt>Last fetch</dt><dd>${timeEl(source.lastFetchAt)} (${source.fetchCount} fetch(es) since start)</dd>
</dl>
${source.phase === 'Stalled' || remedy
  ? html`<div class="banner ${source.phase === 'Stalled' ? 'error' : 'warn'}"><h2>Why, and what to do</h2><p>${source.message}</p>${remedy ? html`<p>${remedy}</p>` : ''}</div>`
  : ''}
<h2>Change sets (one per reconciled commit)</h2>
${changeSets.length === 0
  ? html`<p class="muted">None yet.</p>`
  : html`<table><thead><tr><th scope="col">Change set</th><th scope="col">Commit</th><th scope="col">Units</th><th scope="col">Created</th><th scope="col">Approved by</th></tr></thead>
<tbody>${changeSets.map((c) => html`<tr><th scope="row"><a href="${changeSetHref(c.id)}">${c.id}</a></th><td class="mono">${shortRevision(c.revision)}</td><td>${c.units.join(', ')}</td><td>${timeEl(c.createdAt)}</td><td>${c.approvedBy ?? '-'}</td></tr>`)}</tbody></table>`}
<h2>Source events</h2>
${eventsTable(events)}`;
  return page({ title: 'Source', viewer, current: '/ui/source', body });
}
