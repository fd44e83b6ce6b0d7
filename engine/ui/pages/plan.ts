import type { PlanDetail } from '../../api/contract.ts';
import { hasRole, mayDecideOn } from '../../auth/roles.ts';
import type { PlanRecord, UnitStatus } from '../../model.ts';
import { changeSetHref, phaseBadge, statusBadge, summaryText, timeEl, unitHref, when } from '../format.ts';
import { html, type Html } from '../html.ts';
import { csrfForm, page, type Viewer } from '../layout.ts';
import type { PlanGroup, PlanView } from '../plan-view.ts';

/** Above this many items, a plan's diffs are fetched when opened: the page stays small and opens at once. */
export const INLINE_ITEMS = 300;
/** Up to this many items, groups open by themselves; up to OPEN_ITEMS_UP_TO, their items too. */
const OPEN_GROUPS_UP_TO = 40;
const OPEN_ITEMS_UP_TO = 10;

/** One plan: its policy and why it waits, warnings, the decision buttons for those allowed, and every change, grouped. */
export function planPage(detail: PlanDetail, view: PlanView, unit: UnitStatus | undefined, viewer: Viewer): Html {
  const { plan } = detail;
  const items = view.groups.reduce((n, g) => n + g.items.length, 0);
  const lazy = items > INLINE_ITEMS;
  const warnings = [...new Set([...(plan.warnings ?? []), ...view.warnings])];
  const noun = view.kind === 'tasks' ? 'hosts and tasks' : 'resources';
  const body = html`<h1>Plan <span class="mono">${plan.id}</span></h1>
<dl class="facts">
<dt>Unit</dt><dd><a href="${unitHref(plan.unit)}">${plan.unit}</a> ${unit ? html`${phaseBadge(unit.phase, plan.unit)} <span data-unit-reason="${plan.unit}">${unit.reason}: ${unit.message}</span>` : ''}</dd>
<dt>Kind</dt><dd>${plan.kind}${plan.purpose && plan.purpose !== 'change' ? ` (${plan.purpose} plan)` : ''}</dd>
<dt>Commit</dt><dd class="mono">${plan.revision}</dd>
<dt>Status</dt><dd>${statusBadge(plan.status)}${plan.decidedBy ? html` by ${plan.decidedBy} at ${timeEl(plan.decidedAt)}` : ''}</dd>
<dt>Changes</dt><dd>${summaryText(plan.summary)}${plan.destructive ? html` <strong class="forces">deletes or replaces something</strong>` : ''}${plan.uncertain ? html` <span class="muted">and ${plan.uncertain} step(s) check mode cannot predict</span>` : ''}</dd>
<dt>Policy</dt><dd>${plan.approval}${plan.applyAt ? html`, review window until ${timeEl(plan.applyAt)}` : ''}</dd>
<dt>Why it waits</dt><dd>${whyItWaits(plan, unit)}</dd>
${plan.changeSet ? html`<dt>Change set</dt><dd><a href="${changeSetHref(plan.changeSet)}">${plan.changeSet}</a></dd>` : ''}
<dt>Planned</dt><dd>${timeEl(plan.createdAt)}</dd>
${plan.error ? html`<dt>Error</dt><dd>${plan.error.code}: ${plan.error.message}${plan.error.hint ? html` <span class="muted">(${plan.error.hint})</span>` : ''}</dd>` : ''}
</dl>
${warnings.length > 0 ? html`<div class="banner warn" role="note"><strong>Warnings</strong><ul>${warnings.map((w) => html`<li><pre>${w}</pre></li>`)}</ul></div>` : ''}
${decisionForms(plan, viewer)}
${view.kind === 'text'
  ? html`<h2>Plan</h2><pre>${detail.rendered}</pre>`
  : html`<h2>${items} ${view.kind === 'tasks' ? 'task(s)' : 'change(s)'}</h2>
<div class="filters"><label>Search ${noun}<input id="search" type="search" autocomplete="off" placeholder="address or name"></label><span id="matches" aria-live="polite"></span></div>
<div id="plan-items">
${view.groups.map((g) => groupHtml(g, plan.id, lazy, items <= OPEN_GROUPS_UP_TO, items <= OPEN_ITEMS_UP_TO))}
</div>
<details><summary>The plan as text</summary>${lazy ? html`<p class="muted">Shown by <span class="mono">plumbline show ${plan.id}</span> for a plan this large.</p>` : html`<pre>${detail.rendered}</pre>`}</details>`}`;
  return page({ title: `Plan ${plan.id}`, viewer, live: true, body });
}

function groupHtml(group: PlanGroup, planId: string, lazy: boolean, open: boolean, openItems: boolean): Html {
  return html`<details class="group"${open ? html` open` : ''}><summary>${group.title} <span class="muted">(${group.summary})</span></summary>
${group.items.map((item) =>
  lazy
    ? html`<details class="item" data-address="${item.address}" data-fragment="/ui/plans/${encodeURIComponent(planId)}/items/${item.key}"><summary>${item.label}</summary><div class="item-body">loading…</div></details>`
    : html`<details class="item" data-address="${item.address}"${openItems ? html` open` : ''}><summary>${item.label}</summary><div class="item-body">${item.body()}</div></details>`,
)}</details>`;
}

/** Approve and Reject, only for a person allowed to decide on this unit, and only while the plan can still be decided. */
function decisionForms(plan: PlanRecord, viewer: Viewer): Html {
  if (!hasRole(viewer, 'approver')) return html``;
  if (!mayDecideOn(viewer, plan.unit)) return html`<p class="muted">Your token may not decide on ${plan.unit}.</p>`;
  const canApprove = plan.status === 'Pending';
  const canReject = plan.status === 'Pending' || plan.status === 'Approved';
  if (!canApprove && !canReject) return html``;
  const base = `/ui/plans/${encodeURIComponent(plan.id)}`;
  return html`<section class="actions" aria-label="Decision">
${canApprove ? csrfForm(`${base}/approve`, viewer, html`<button type="submit" class="primary">Approve</button>`) : ''}
${canReject ? csrfForm(`${base}/reject`, viewer, html`<label>Reason (optional)<input name="reason" type="text" maxlength="4000"></label><button type="submit" class="danger">Reject</button>`) : ''}
</section>`;
}

export function whyItWaits(plan: PlanRecord, unit: UnitStatus | undefined): string {
  const unitWord = unit && unit.planId === plan.id && plan.status === 'Approved' ? ` ${unit.reason}: ${unit.message}` : '';
  switch (plan.status) {
    case 'Pending':
      if (plan.purpose === 'drift' && plan.driftAction === 'report') return `A drift report: the unit's drift policy is report, so remediating it waits for an approver.${unitWord}`;
      if (plan.approval === 'manual') return `The unit's approval policy is manual: it waits for an approver.${unitWord}`;
      if (plan.approval === 'auto-unless-destroy' && plan.destructive) return `It deletes or replaces something, so the policy auto-unless-destroy waits for an approver.${unitWord}`;
      if (plan.applyAt) return `Review window: it applies by itself at ${when(plan.applyAt)} unless rejected.${unitWord}`;
      return `Pending.${unitWord}`;
    case 'Approved':
      return `Approved: its apply is queued.${unitWord}`;
    default:
      return `It does not wait: it is ${plan.status}.`;
  }
}
