import type { StatusAnswer } from '../../api/contract.ts';
import type { ChangeSet, UnitStatus } from '../../model.ts';
import { changeSetHref, phaseBadge, planHref, shortRevision, timeEl, unitHref } from '../format.ts';
import { html, type Html } from '../html.ts';
import { page, type Viewer } from '../layout.ts';
import { sourceBanner } from './source.ts';

export interface OverviewFilters {
  name?: string;
  kind?: string;
  phase?: string;
}

const PHASES = ['Pending', 'Planning', 'AwaitingApproval', 'Applying', 'InSync', 'Failed', 'Stalled', 'Drifted', 'Blocked', 'Orphaned'];

/** Every unit, filterable by name, kind and phase; rows are replaced live as units change. */
export function overviewPage(status: StatusAnswer, changeSets: ChangeSet[], filters: OverviewFilters, viewer: Viewer): Html {
  const kinds = [...new Set(status.units.map((u) => u.kind))].sort();
  const pending = status.units.filter((u) => u.phase === 'AwaitingApproval').length;
  const latest = changeSets.slice(0, 5);
  const body = html`<h1>Units</h1>
${sourceBanner(status.source)}
<p class="muted">${status.units.length} unit(s), ${pending} waiting for approval. <span id="shown" class="sr-only" aria-live="polite"></span></p>
<form class="filters" method="get" action="/" role="search" aria-label="Filter units">
<label>Name<input id="filter-name" name="name" type="search" value="${filters.name ?? ''}" autocomplete="off"></label>
<label>Kind<select id="filter-kind" name="kind">${option('', 'any', filters.kind)}${kinds.map((k) => option(k, k, filters.kind))}</select></label>
<label>Phase<select id="filter-phase" name="phase">${option('', 'any', filters.phase)}${PHASES.map((p) => option(p, p, filters.phase))}</select></label>
<button type="submit">Filter</button>
</form>
<table>
<thead><tr><th scope="col">Unit</th><th scope="col">Kind</th><th scope="col">Phase</th><th scope="col">Reason</th><th scope="col">Last applied</th><th scope="col">Last attempted</th><th scope="col">Plan</th><th scope="col">Drift</th><th scope="col">Hosts</th></tr></thead>
<tbody id="units">${status.units.map((u) => unitRow(u, matches(u, filters)))}</tbody>
</table>
${latest.length > 0
  ? html`<h2>Latest change sets</h2><ul>${latest.map((c) => html`<li><a href="${changeSetHref(c.id)}">${c.id}</a> <span class="muted">commit ${shortRevision(c.revision)}, ${c.units.length} unit(s), ${timeEl(c.createdAt)}${c.approvedBy ? `, approved by ${c.approvedBy}` : ''}</span></li>`)}</ul>`
  : ''}`;
  return page({ title: 'Units', viewer, current: '/', live: true, body });
}

/** One unit's row; sent as is to live pages when the unit changes. */
export function unitRow(u: UnitStatus, shown = true): Html {
  const waiting = u.phase === 'AwaitingApproval';
  return html`<tr data-unit="${u.name}" data-kind="${u.kind}" data-phase="${u.phase}"${shown ? '' : html` class="hidden"`}>
<th scope="row"><a href="${unitHref(u.name)}">${u.name}</a></th>
<td>${u.kind}</td>
<td>${phaseBadge(u.phase)}</td>
<td title="${u.message}">${u.reason}</td>
<td class="mono">${shortRevision(u.lastAppliedRevision)}</td>
<td class="mono">${shortRevision(u.lastAttemptedRevision)}</td>
<td>${u.planId ? html`<a href="${planHref(u.planId)}">${waiting ? 'pending plan' : 'last plan'}</a>` : '-'}</td>
<td>${u.phase === 'Drifted' ? html`<strong>drifted</strong>` : u.lastDriftCheckAt ? html`checked ${timeEl(u.lastDriftCheckAt)}` : '-'}</td>
<td>${hostsSummary(u)}</td>
</tr>`;
}

function hostsSummary(u: UnitStatus): string {
  if (!u.hosts || u.hosts.length === 0) return '-';
  const counts = new Map<string, number>();
  for (const h of u.hosts) counts.set(h.state, (counts.get(h.state) ?? 0) + 1);
  return `${u.hosts.length}: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')}`;
}

function matches(u: UnitStatus, f: OverviewFilters): boolean {
  return (!f.name || u.name.toLowerCase().includes(f.name.toLowerCase())) && (!f.kind || u.kind === f.kind) && (!f.phase || u.phase === f.phase);
}

function option(value: string, label: string, selected: string | undefined): Html {
  return html`<option value="${value}"${(selected ?? '') === value ? html` selected` : ''}>${label}</option>`;
}
