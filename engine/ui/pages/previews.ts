import type { PreviewState } from '../../previews/types.ts';
import { planHref, shortRevision, summaryText, timeEl } from '../format.ts';
import { dependencyGraph } from '../graph.ts';
import { html, type Html } from '../html.ts';
import { page, type Viewer } from '../layout.ts';

/**
 * Merge-request previews, per ref: the same change-set view as a commit (the
 * graph, then each unit in dependency order with its plan), for branches not
 * merged yet. Nothing here can be approved.
 */
export function previewsPage(previews: readonly PreviewState[], dependsOn: (unit: string) => readonly string[], viewer: Viewer): Html {
  const body = html`<h1>Previews</h1>
<p class="muted">Open branches and merge requests, planned before they are merged (source.previews). Previews are never approved nor applied.</p>
${previews.length === 0 ? html`<p class="muted">No previews.</p>` : previews.map((p) => previewSection(p, dependsOn))}`;
  return page({ title: 'Previews', viewer, current: '/ui/previews', body });
}

function previewSection(preview: PreviewState, dependsOn: (unit: string) => readonly string[]): Html {
  const names = new Set(preview.units.map((u) => u.name));
  const nodes = preview.units.map((u) => ({
    name: u.name,
    dependsOn: dependsOn(u.name).filter((d) => names.has(d)),
    note: u.summary ? `${u.status} +${u.summary.add} ~${u.summary.change} -${u.summary.destroy} ±${u.summary.replace}` : u.status,
    ...(u.planId ? { href: planHref(u.planId) } : {}),
  }));
  return html`<section>
<h2 class="mono">${preview.ref}</h2>
<dl class="facts">
<dt>Commit</dt><dd class="mono">${preview.revision}</dd>
<dt>Merge base</dt><dd class="mono">${shortRevision(preview.mergeBase)}</dd>
<dt>Updated</dt><dd>${timeEl(preview.updatedAt)}</dd>
</dl>
${preview.units.length === 0
  ? html`<p class="muted">The branch changes no unit.</p>`
  : html`${dependencyGraph(nodes, `Dependency graph of the preview of ${preview.ref}: ${preview.units.map((u) => u.name).join(', ')}`)}
<table><thead><tr><th scope="col">#</th><th scope="col">Unit</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Plan</th><th scope="col">Changes</th></tr></thead>
<tbody>${preview.units.map(
      (u, i) => html`<tr><td>${i + 1}</td><th scope="row">${u.name}</th><td>${u.kind}</td><td>${u.status}</td>
<td>${u.planId ? html`<a href="${planHref(u.planId)}" class="mono">${u.planId}</a>` : '-'}</td>
<td>${u.summary ? summaryText(u.summary) : (u.error ?? '-')}</td></tr>`,
    )}</tbody></table>`}
</section>`;
}
