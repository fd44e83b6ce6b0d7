import { html, type Html } from './html.ts';

/**
 * A change set's dependency graph as SVG: units in layers (a unit one layer
 * right of the last unit it depends on), edges from upstream to dependant.
 * Drawn on the server, so it needs no script and no layout library.
 */

export interface GraphNode {
  name: string;
  /** Units of the graph it depends on. */
  dependsOn: readonly string[];
  /** Short text under the name (phase, plan summary). */
  note: string;
  href?: string;
}

const BOX_W = 210;
const BOX_H = 44;
const GAP_X = 60;
const GAP_Y = 16;
const PAD = 12;
const MAX_CHARS = 26;

export function dependencyGraph(nodes: readonly GraphNode[], label: string): Html {
  const names = new Set(nodes.map((n) => n.name));
  const layer = new Map<string, number>();
  const layerOf = (node: GraphNode, seen: Set<string>): number => {
    const known = layer.get(node.name);
    if (known !== undefined) return known;
    if (seen.has(node.name)) return 0; // a cycle is refused by validation; never loop on one here
    seen.add(node.name);
    const deps = node.dependsOn.filter((d) => names.has(d)).map((d) => layerOf(nodes.find((n) => n.name === d)!, seen));
    const value = deps.length === 0 ? 0 : Math.max(...deps) + 1;
    layer.set(node.name, value);
    return value;
  };
  for (const node of nodes) layerOf(node, new Set());
  const rows = new Map<number, number>();
  const position = new Map<string, { x: number; y: number }>();
  for (const node of nodes) {
    const l = layer.get(node.name)!;
    const row = rows.get(l) ?? 0;
    rows.set(l, row + 1);
    position.set(node.name, { x: PAD + l * (BOX_W + GAP_X), y: PAD + row * (BOX_H + GAP_Y) });
  }
  const width = PAD * 2 + (Math.max(0, ...layer.values()) + 1) * (BOX_W + GAP_X) - GAP_X;
  const height = PAD * 2 + Math.max(1, ...rows.values()) * (BOX_H + GAP_Y) - GAP_Y;
  const edges = nodes.flatMap((node) =>
    node.dependsOn
      .filter((d) => names.has(d))
      .map((d) => {
        const from = position.get(d)!;
        const to = position.get(node.name)!;
        const x1 = from.x + BOX_W;
        const y1 = from.y + BOX_H / 2;
        const x2 = to.x - 4;
        const y2 = to.y + BOX_H / 2;
        const mid = (x1 + x2) / 2;
        return html`<path d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}" marker-end="url(#arrow)"/>`;
      }),
  );
  const boxes = nodes.map((node) => {
    const { x, y } = position.get(node.name)!;
    const box = html`<rect x="${x}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="4"/><text x="${x + 8}" y="${y + 18}">${clip(node.name)}</text><text x="${x + 8}" y="${y + 36}">${clip(node.note)}</text>`;
    return html`<g><title>${node.name}: ${node.note}</title>${node.href ? html`<a href="${node.href}">${box}</a>` : box}</g>`;
  });
  return html`<div class="graph"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-label="${label}">
<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path class="arrow" d="M0,0 L8,4 L0,8 z"/></marker></defs>
${edges}${boxes}</svg></div>`;
}

function clip(text: string): string {
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
}
