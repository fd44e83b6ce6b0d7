import type { HistoryEvent, PlanRecord, UnitStatus } from '../../model.ts';
import type { StoredOutput } from '../../store/types.ts';
import { phaseBadge, planHref, shortRevision, statusBadge, summaryText, timeEl } from '../format.ts';
import { html, query, type Html } from '../html.ts';
import { page, type Viewer } from '../layout.ts';
import { eventsTable } from './history.ts';

/** One unit: its state, hosts, outputs (masked), drift reports and plans, and its history. */
export function unitPage(
  unit: UnitStatus,
  plans: PlanRecord[],
  events: HistoryEvent[],
  outputs: Record<string, StoredOutput> | undefined,
  viewer: Viewer,
): Html {
  const drift = plans.filter((p) => p.purpose === 'drift');
  const body = html`<h1>Unit <span class="mono">${unit.name}</span></h1>
<dl class="facts">
<dt>Kind</dt><dd>${unit.kind}</dd>
<dt>Folder</dt><dd class="mono">${unit.path}</dd>
<dt>Phase</dt><dd>${phaseBadge(unit.phase, unit.name)} <span data-unit-reason="${unit.name}">${unit.reason}: ${unit.message}</span></dd>
<dt>Last applied</dt><dd class="mono">${unit.lastAppliedRevision ?? '-'}</dd>
<dt>Last attempted</dt><dd class="mono">${unit.lastAttemptedRevision ?? '-'}</dd>
<dt>Current plan</dt><dd>${unit.planId ? html`<a href="${planHref(unit.planId)}" class="mono">${unit.planId}</a>` : '-'}</dd>
<dt>Last drift check</dt><dd>${timeEl(unit.lastDriftCheckAt)}${unit.driftRemediations ? html` <span class="muted">(same drift remediated ${unit.driftRemediations.count} time(s))</span>` : ''}</dd>
<dt>Updated</dt><dd>${timeEl(unit.updatedAt)}</dd>
</dl>
${unit.hosts && unit.hosts.length > 0
  ? html`<h2>Hosts (last known state)</h2><table><thead><tr><th scope="col">Host</th><th scope="col">State</th><th scope="col">Message</th></tr></thead>
<tbody>${unit.hosts.map((h) => html`<tr><th scope="row">${h.name}</th><td>${h.state}</td><td>${h.message ?? ''}</td></tr>`)}</tbody></table>`
  : ''}
<h2>Outputs</h2>
${outputsTable(outputs)}
<h2>Drift reports</h2>
${drift.length === 0 ? html`<p class="muted">No drift found by the checks on record.</p>` : plansTable(drift)}
<h2>Plans</h2>
${plans.length === 0 ? html`<p class="muted">No plans yet.</p>` : plansTable(plans)}
<h2>History</h2>
${eventsTable(events)}
<p class="pager"><a href="/ui/history${query({ unit: unit.name })}">The whole history of ${unit.name}</a></p>`;
  return page({ title: unit.name, viewer, live: true, body });
}

function plansTable(plans: PlanRecord[]): Html {
  return html`<table><thead><tr><th scope="col">Plan</th><th scope="col">Commit</th><th scope="col">Status</th><th scope="col">Changes</th><th scope="col">Planned</th><th scope="col">Decided by</th></tr></thead>
<tbody>${plans.map(
    (p) => html`<tr><th scope="row"><a href="${planHref(p.id)}" class="mono">${p.id}</a>${p.purpose === 'drift' ? ' (drift)' : p.purpose === 'destroy' ? ' (destroy)' : ''}</th><td class="mono">${shortRevision(p.revision)}</td><td>${statusBadge(p.status)}</td><td>${summaryText(p.summary)}</td><td>${timeEl(p.createdAt)}</td><td>${p.decidedBy ?? '-'}</td></tr>`,
  )}</tbody></table>`;
}

/** Sensitive outputs show as masked; every value passes through the secret registry with the rest of the page. */
function outputsTable(outputs: Record<string, StoredOutput> | undefined): Html {
  const names = Object.keys(outputs ?? {}).sort();
  if (!outputs || names.length === 0) return html`<p class="muted">No outputs on record.</p>`;
  return html`<table><thead><tr><th scope="col">Output</th><th scope="col">Value</th></tr></thead>
<tbody>${names.map((n) => {
    const o = outputs[n]!;
    return html`<tr><th scope="row" class="mono">${n}</th><td class="mono">${o.sensitive ? html`<span class="muted">(sensitive)</span>` : JSON.stringify(o.value)}</td></tr>`;
  })}</tbody></table>`;
}
