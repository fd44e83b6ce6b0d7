import { html, type Html } from './html.ts';

/**
 * A plan document as groups of collapsible items: Terraform resources by
 * module (and the outputs), or Ansible tasks by host (and the tasks check
 * mode cannot predict). The documents are the providers' normalized plans,
 * read here by shape only: the engine reaches providers through
 * engine/provider.ts, never their types.
 */

export interface PlanItem {
  /** Stable within the document: `r12`, `o0`, `h3-t1`, `u2`. Large plans fetch an item's body by it. */
  key: string;
  /** What the search box matches: an address, `host => task`. */
  address: string;
  label: Html;
  /** Deletes or replaces something (a destructive task): named in an approval's confirmation. */
  destroys?: boolean;
  body(): Html;
}

export interface PlanGroup {
  title: string;
  summary: string;
  items: PlanItem[];
}

export interface PlanView {
  /** `resources` (Terraform, CDKTF) or `tasks` (Ansible); `text` when the document is not one this UI reads. */
  kind: 'resources' | 'tasks' | 'text';
  groups: PlanGroup[];
  /** Warnings the document carries (besides the plan record's). */
  warnings: string[];
}

interface Attribute {
  path: string;
  before?: unknown;
  after?: unknown;
  unknown?: boolean;
  sensitive?: boolean;
  forcesReplacement?: boolean;
}

interface ResourceView {
  address: string;
  previousAddress?: string;
  module?: string;
  action: string;
  reason?: string;
  importing?: boolean;
  attributes?: Attribute[];
}

interface OutputView {
  name: string;
  action: string;
  unknown?: boolean;
  sensitive?: boolean;
  attributes?: Attribute[];
}

interface TaskView {
  play: string;
  task: string;
  path: string;
  action: string;
  status: string;
  destructive?: boolean;
  destructiveReason?: string;
  noLog?: boolean;
  message?: string;
  ignored?: boolean;
  diff?: string;
  items?: string[];
}

interface HostView {
  name: string;
  state: string;
  message?: string;
  tasks?: TaskView[];
}

interface UncertainView {
  play: string;
  task: string;
  path: string;
  action: string;
  why?: string;
  noLog?: boolean;
  hosts: string[];
}

const ROOT_MODULE = 'root module';

export function planView(document: unknown): PlanView {
  if (isObject(document) && document.kind === 'ansible' && Array.isArray(document.hosts)) return ansibleView(document);
  if (isObject(document) && Array.isArray(document.resources)) return terraformView(document);
  return { kind: 'text', groups: [], warnings: [] };
}

/** The item of a view by its key (a large plan's body fetched on opening). */
export function findItem(view: PlanView, key: string): PlanItem | undefined {
  for (const group of view.groups) for (const item of group.items) if (item.key === key) return item;
  return undefined;
}

/** What a plan deletes or replaces, for the confirmation of an approval. */
export function destroyedBy(view: PlanView): string[] {
  return view.groups.flatMap((g) => g.items.filter((i) => i.destroys).map((i) => i.address));
}

function terraformView(document: Record<string, unknown>): PlanView {
  const resources = (document.resources as unknown[]).filter(isObject) as unknown as ResourceView[];
  const outputs = (Array.isArray(document.outputs) ? document.outputs.filter(isObject) : []) as unknown as OutputView[];
  const byModule = new Map<string, PlanItem[]>();
  resources.forEach((r, i) => {
    const item: PlanItem = {
      key: `r${i}`,
      destroys: r.action === 'delete' || r.action === 'replace',
      address: r.address,
      label: html`<span class="act act-${r.action}">${ACTION_WORDS[r.action] ?? r.action}</span> ${r.address}${
        r.previousAddress ? html` <span class="muted">(moved from ${r.previousAddress})</span>` : ''
      }${r.importing ? html` <span class="muted">(imported)</span>` : ''}`,
      body: () => html`${r.reason ? html`<p class="muted">Reason: ${r.reason}</p>` : ''}${attributeTable(r.attributes ?? [])}`,
    };
    const module = r.module ?? ROOT_MODULE;
    byModule.set(module, [...(byModule.get(module) ?? []), item]);
  });
  const groups: PlanGroup[] = [...byModule].map(([module, items]) => ({ title: module, summary: countBy(items.map((i) => resources[Number(i.key.slice(1))]!.action)), items }));
  if (outputs.length > 0) {
    groups.push({
      title: 'Outputs',
      summary: countBy(outputs.map((o) => o.action)),
      items: outputs.map((o, i) => ({
        key: `o${i}`,
        address: `output.${o.name}`,
        label: html`<span class="act act-${o.action}">${ACTION_WORDS[o.action] ?? o.action}</span> output ${o.name}${o.sensitive ? html` <span class="muted">(sensitive)</span>` : ''}`,
        body: () => attributeTable(o.attributes ?? []),
      })),
    });
  }
  return { kind: 'resources', groups, warnings: strings(document.warnings) };
}

const ACTION_WORDS: Record<string, string> = { create: 'create', update: 'update', delete: 'destroy', replace: 'replace', forget: 'forget', none: 'move' };

function ansibleView(document: Record<string, unknown>): PlanView {
  const hosts = (document.hosts as unknown[]).filter(isObject) as unknown as HostView[];
  const uncertain = (Array.isArray(document.uncertain) ? document.uncertain.filter(isObject) : []) as unknown as UncertainView[];
  const groups: PlanGroup[] = hosts.map((h, hi) => ({
    title: h.name,
    summary: `${h.state}${h.message ? `: ${h.message}` : ''}; ${(h.tasks ?? []).length} task(s) change, fail or did not run`,
    items: (h.tasks ?? []).map((t, ti) => {
      return {
        key: `h${hi}-t${ti}`,
        destroys: t.destructive === true && t.status === 'changed',
        address: `${h.name} => ${t.task}`,
        label: html`<span class="act act-${t.destructive ? 'delete' : t.status === 'changed' ? 'update' : 'none'}">${t.status}</span> ${t.task}${t.destructive ? html` <span class="forces">(removes something)</span>` : ''}`,
        body: () => taskBody(t),
      };
    }),
  }));
  if (uncertain.length > 0) {
    groups.push({
      title: 'Tasks check mode cannot predict',
      summary: `${uncertain.length} task(s): they run when the plan is applied, and are not counted as changes`,
      items: uncertain.map((u, i) => ({
        key: `u${i}`,
        address: `${u.hosts.join(' ')} => ${u.task}`,
        label: html`<span class="act">unknown</span> ${u.task} <span class="muted">on ${u.hosts.length} host(s)</span>`,
        body: () => html`<dl class="facts"><dt>Play</dt><dd>${u.play}</dd><dt>Module</dt><dd class="mono">${u.action}</dd><dt>Where</dt><dd class="mono">${u.path}</dd><dt>Hosts</dt><dd>${u.hosts.join(', ')}</dd>${
          u.why ? html`<dt>Why</dt><dd>${u.why}</dd>` : ''
        }</dl>`,
      })),
    });
  }
  const unreachable = strings(document.unreachable);
  return { kind: 'tasks', groups, warnings: unreachable.length > 0 ? [`unreachable host(s), not planned: ${unreachable.join(', ')}`] : [] };
}

function taskBody(t: TaskView): Html {
  return html`<dl class="facts"><dt>Play</dt><dd>${t.play}</dd><dt>Module</dt><dd class="mono">${t.action}</dd><dt>Where</dt><dd class="mono">${t.path}</dd>${
    t.destructiveReason ? html`<dt>Removes</dt><dd>${t.destructiveReason}</dd>` : ''
  }${t.message ? html`<dt>Message</dt><dd>${t.message}</dd>` : ''}${t.ignored ? html`<dt>Ignored</dt><dd>the play ignores this failure</dd>` : ''}${
    t.items && t.items.length > 0 ? html`<dt>Items</dt><dd>${t.items.join(', ')}</dd>` : ''
  }</dl>${t.noLog ? html`<p class="muted">no_log: its arguments, result and diff are hidden.</p>` : t.diff ? unifiedDiff(t.diff) : ''}`;
}

/** A unified diff, its added and removed lines marked. */
export function unifiedDiff(text: string): Html {
  const lines = text.split('\n').map((line) => {
    const cls = line.startsWith('+++') || line.startsWith('---') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : '';
    return cls ? html`<span class="${cls}">${line}</span>` : html`${line}\n`;
  });
  return html`<pre class="udiff">${lines}</pre>`;
}

/** Only what changed, each at its path, the way terraform's nested diff reads. */
export function attributeTable(attributes: Attribute[]): Html {
  if (attributes.length === 0) return html`<p class="muted">No attribute changes.</p>`;
  return html`<table class="diff"><thead class="sr-only"><tr><th scope="col">Change</th><th scope="col">Path</th><th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>${attributes.map((a) => {
    const had = 'before' in a;
    const has = 'after' in a || a.unknown === true;
    const sign = had && has ? '~' : has ? '+' : '-';
    return html`<tr><td>${sign}</td><td class="path">${a.path || '(whole value)'}</td><td>${had ? html`<span class="before">${shown(a.before)}</span>` : ''}</td><td>${
      a.unknown ? html`<span class="after">(known after apply)</span>` : 'after' in a ? html`<span class="after">${shown(a.after)}</span>` : ''
    }${a.forcesReplacement ? html` <span class="forces"># forces replacement</span>` : ''}</td></tr>`;
  })}</tbody></table>`;
}

function shown(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

function countBy(actions: string[]): string {
  const counts = new Map<string, number>();
  for (const a of actions) counts.set(ACTION_WORDS[a] ?? a, (counts.get(ACTION_WORDS[a] ?? a) ?? 0) + 1);
  return `${actions.length}: ${[...counts].map(([a, n]) => `${n} to ${a}`).join(', ')}`;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
