import type { ChangeSetDetail } from '../../api/contract.ts';
import { hasRole, unitsOutside } from '../../auth/roles.ts';
import type { ChangeSet } from '../../model.ts';
import { changeSetHref, phaseBadge, planHref, shortRevision, statusBadge, summaryText, timeEl, unitHref } from '../format.ts';
import { dependencyGraph } from '../graph.ts';
import { html, type Html } from '../html.ts';
import { csrfForm, page, type Viewer } from '../layout.ts';

/** What approving a whole change set destroys, plan by plan. */
export interface Destruction {
  unit: string;
  planId: string;
  what: string[];
}

export function changeSetsPage(changeSets: ChangeSet[], viewer: Viewer): Html {
  const body = html`<h1>Change sets</h1>
<p class="muted">Everything one commit set in motion, newest first.</p>
${changeSets.length === 0
  ? html`<p class="muted">None yet.</p>`
  : html`<table><thead><tr><th scope="col">Change set</th><th scope="col">Commit</th><th scope="col">Units</th><th scope="col">Created</th><th scope="col">Approved by</th></tr></thead>
<tbody>${changeSets.map((c) => html`<tr><th scope="row"><a href="${changeSetHref(c.id)}">${c.id}</a></th><td class="mono">${shortRevision(c.revision)}</td><td>${c.units.join(', ')}</td><td>${timeEl(c.createdAt)}</td><td>${c.approvedBy ?? '-'}</td></tr>`)}</tbody></table>`}`;
  return page({ title: 'Change sets', viewer, current: '/ui/changesets', body });
}

/** A commit's whole effect: its units in dependency order, drawn as a graph, each with its plan. */
export function changeSetPage(detail: ChangeSetDetail, dependsOn: (unit: string) => readonly string[], viewer: Viewer): Html {
  const { changeSet, entries } = detail;
  const nodes = entries.map((e) => ({
    name: e.unit,
    dependsOn: dependsOn(e.unit),
    note: e.plan ? `${e.plan.status} +${e.plan.summary.add} ~${e.plan.summary.change} -${e.plan.summary.destroy} ±${e.plan.summary.replace}` : e.phase,
    ...(e.plan ? { href: planHref(e.plan.id) } : {}),
  }));
  const body = html`<h1>Change set <span class="mono">${changeSet.id}</span></h1>
<dl class="facts">
<dt>Commit</dt><dd class="mono">${changeSet.revision}</dd>
<dt>Created</dt><dd>${timeEl(changeSet.createdAt)}</dd>
<dt>Set in motion</dt><dd>${changeSet.units.length} unit(s)${entries.some((e) => e.downstream) ? `, and ${entries.filter((e) => e.downstream).length} dependant(s) planned again if an upstream output changes` : ''}</dd>
${changeSet.approvedBy ? html`<dt>Approved by</dt><dd>${changeSet.approvedBy} at ${timeEl(changeSet.approvedAt)}</dd>` : ''}
</dl>
${approveAllButton(detail, viewer)}
<h2>Dependency graph</h2>
${dependencyGraph(nodes, `Dependency graph of ${changeSet.id}: ${entries.map((e) => e.unit).join(', ')}`)}
<h2>Units, in the order they apply</h2>
<table><thead><tr><th scope="col">#</th><th scope="col">Unit</th><th scope="col">Kind</th><th scope="col">Phase</th><th scope="col">Plan</th><th scope="col">Changes</th><th scope="col">Waiting for</th></tr></thead>
<tbody>${entries.map(
    (e, i) => html`<tr><td>${i + 1}</td><th scope="row"><a href="${unitHref(e.unit)}">${e.unit}</a>${e.downstream ? html` <span class="muted">(dependant)</span>` : ''}</th><td>${e.kind}</td><td>${phaseBadge(e.phase, e.unit)} <span class="muted" data-unit-reason="${e.unit}">${e.reason}: ${e.message}</span></td>
<td>${e.plan ? html`<a href="${planHref(e.plan.id)}" class="mono">${e.plan.id}</a> ${statusBadge(e.plan.status)}` : e.downstream ? 'planned again only if an upstream output changes' : 'not planned yet'}</td>
<td>${e.plan ? html`${summaryText(e.plan.summary)}${e.plan.destructive ? html` <strong class="forces">destroys</strong>` : ''}` : '-'}</td>
<td>${[...e.waitingFor, ...e.blockedBy.map((b) => `${b} (blocked)`)].join(', ') || '-'}</td></tr>`,
  )}</tbody></table>`;
  return page({ title: `Change set ${changeSet.id}`, viewer, live: true, body });
}

/** Shown to an approver of every unit of the set while something of it is pending; it leads to the confirmation. */
function approveAllButton(detail: ChangeSetDetail, viewer: Viewer): Html {
  if (!mayApproveAll(detail, viewer)) return html``;
  return html`<form class="actions" method="get" action="${changeSetHref(detail.changeSet.id)}/confirm"><button type="submit" class="primary">Approve all</button><span class="muted">You will see what it destroys before anything is approved.</span></form>`;
}

export function mayApproveAll(detail: ChangeSetDetail, viewer: Viewer): boolean {
  if (!hasRole(viewer, 'approver')) return false;
  if (unitsOutside(viewer, detail.entries.map((e) => e.unit)).length > 0) return false;
  return detail.entries.some((e) => e.plan?.status === 'Pending');
}

/** The confirmation: every pending plan it approves, what each destroys, and that later plans are pre-approved unless they destroy. */
export function confirmApproveAllPage(detail: ChangeSetDetail, destructions: Destruction[], viewer: Viewer): Html {
  const pending = detail.entries.filter((e) => e.plan?.status === 'Pending');
  const destroyed = destructions.filter((d) => d.what.length > 0);
  const body = html`<h1>Approve all of <span class="mono">${detail.changeSet.id}</span>?</h1>
<p>This approves ${pending.length} pending plan(s): ${pending.map((e, i) => html`${i > 0 ? ', ' : ''}<a href="${planHref(e.plan!.id)}">${e.unit}</a>`)}.
Plans the set makes later (dependants planned after their upstream applies) are approved by themselves unless they delete or replace something.</p>
${destroyed.length > 0
  ? html`<div class="banner error" role="alert"><h2>This destroys</h2><ul>${destroyed.map(
      (d) => html`<li><strong>${d.unit}</strong> (<a href="${planHref(d.planId)}">plan</a>): ${d.what.length} ${d.what.length === 1 ? 'thing' : 'things'}<ul>${d.what.slice(0, 50).map((w) => html`<li class="mono">${w}</li>`)}${
        d.what.length > 50 ? html`<li>and ${d.what.length - 50} more: see the plan</li>` : ''
      }</ul></li>`,
    )}</ul></div>`
  : html`<div class="banner" role="status">Nothing is destroyed: no pending plan of this set deletes or replaces anything.</div>`}
${csrfForm(`${changeSetHref(detail.changeSet.id)}/approve`, viewer, html`<button type="submit" class="${destroyed.length > 0 ? 'danger' : 'primary'}">Approve all</button> <a href="${changeSetHref(detail.changeSet.id)}">Cancel</a>`, html` class="actions"`)}`;
  return page({ title: `Approve ${detail.changeSet.id}`, viewer, body });
}
