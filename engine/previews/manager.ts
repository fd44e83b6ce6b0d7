import { rm } from 'node:fs/promises';
import type { PreviewSettings } from '../config/types.ts';
import { loadDefinitions } from '../definitions/load.ts';
import type { UnitDefinition } from '../definitions/types.ts';
import { asPlumblineError } from '../errors.ts';
import type { OutputValue } from '../provider.ts';
import { secrets } from '../secrets.ts';
import type { Runtime } from '../controller/runtime.ts';
import * as t from '../controller/transitions.ts';
import { unwrap } from '../controller/steps.ts';
import { previewedRefs } from './refs.ts';
import { planPreviewUnit } from './run.ts';
import { removePreviewStatesOfRef } from './state-folder.ts';
import { previewScope } from './scope.ts';
import type { PreviewListener, PreviewState, PreviewUnit } from './types.ts';

/** How soon preview runs waiting for the main branch's work look at the queue again. */
const MAIN_BUSY_RETRY_MS = 500;

interface Preview {
  state: PreviewState;
  definitions: Map<string, UnitDefinition>;
  /** Each planned unit's expected outputs (undefined: the tool could not say). */
  planned: Map<string, Record<string, OutputValue> | undefined>;
  abort: AbortController;
}

export interface PreviewManagerOptions {
  rt: Runtime;
  settings: PreviewSettings;
  listener?: PreviewListener | undefined;
  /** The units the watched branch defines now. */
  mainDefinitions(): ReadonlyMap<string, UnitDefinition>;
}

/**
 * Merge-request previews: for each previewed ref's head, the units the branch
 * changed and their dependants are planned speculatively, upstream first, at
 * most `concurrency` at once and only while the main branch has nothing
 * queued. The previews live here (the poll feeds them); their plans live in
 * the store with status `Preview`. Nothing here approves or applies.
 */
export class PreviewManager {
  private readonly previews = new Map<string, Preview>();
  private running = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private again = false;
  private stopped = false;
  private swept = false;

  constructor(private readonly options: PreviewManagerOptions) {}

  /** After a fetch: start previews of new heads, drop those of refs superseded or gone. Costs nothing when nothing moved. */
  async sync(fetched: ReadonlyMap<string, string>, mainHead: string): Promise<void> {
    const { rt, settings } = this.options;
    const heads = previewedRefs(fetched, settings, rt.config.source.branch);
    if (!this.swept) {
      // A restart: previews recorded before it are planned again from their head.
      this.swept = true;
      await this.dropStoredPlans(() => true);
    }
    for (const [ref, preview] of this.previews) {
      if (heads.get(ref) === preview.state.revision) continue;
      await this.remove(ref);
      // A ref gone takes its preview folders (a newer head reuses them); one still in use goes at a later cleanup (gc.ts).
      if (!heads.has(ref)) await removePreviewStatesOfRef(rt.paths, ref).catch((error: unknown) => rt.log.warn({ ref, err: asPlumblineError(error) }, 'preview folders of a ref gone not removed'));
    }
    for (const [ref, head] of heads) {
      if (this.previews.has(ref) || this.stopped) continue;
      try {
        await this.start(ref, head, mainHead);
      } catch (error) {
        rt.log.warn({ ref, head, err: asPlumblineError(error) }, 'preview could not be started; the next poll tries again');
      }
    }
    this.wake();
  }

  /** The previews, by ref; one ref when asked. */
  list(ref?: string): PreviewState[] {
    return [...this.previews.values()].filter((p) => ref === undefined || p.state.ref === ref).map((p) => structuredClone(p.state)).sort((a, b) => a.ref.localeCompare(b.ref));
  }

  /** Commits previews still read (their snapshots are kept). */
  revisions(): string[] {
    return [...this.previews.values()].map((p) => p.state.revision);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const preview of this.previews.values()) preview.abort.abort('daemon stopping');
  }

  private async start(ref: string, revision: string, mainHead: string): Promise<void> {
    const { rt } = this.options;
    const mergeBase = await rt.source.mergeBase(mainHead, revision);
    if (!mergeBase) {
      rt.log.warn({ ref, revision }, `${ref} shares no history with ${rt.config.source.branch}: not previewed`);
      return;
    }
    const changed = await rt.source.changedPaths(mergeBase, revision);
    const { units } = await loadDefinitions(await rt.source.snapshot(revision), rt.config.defaults, rt.config.limits);
    const main = this.options.mainDefinitions();
    const known = new Map(await Promise.all([...main.keys()].map(async (name) => [name, await rt.store.getReads(name)] as const)));
    const scope = previewScope({ changed, units, known });
    const preview: Preview = {
      state: { ref, revision, mergeBase, units: scope.map((u) => ({ name: u.name, kind: u.kind, status: 'Queued' })), updatedAt: new Date().toISOString() },
      definitions: new Map(scope.map((u) => [u.name, u])),
      planned: new Map(),
      abort: new AbortController(),
    };
    this.previews.set(ref, preview);
    rt.log.info({ ref, revision, mergeBase, units: scope.map((u) => u.name) }, 'preview started');
    this.announce(preview);
  }

  /** A ref deleted, or superseded by a newer head: its runs are cancelled and its plans go. */
  private async remove(ref: string): Promise<void> {
    const preview = this.previews.get(ref);
    if (!preview) return;
    this.previews.delete(ref);
    preview.abort.abort(`preview of ${ref} at ${preview.state.revision.slice(0, 8)} removed`);
    await this.dropStoredPlans((plan) => plan.preview?.ref === ref);
    this.options.rt.log.info({ ref, revision: preview.state.revision }, 'preview removed');
    try {
      this.options.listener?.previewRemoved(ref, preview.state.revision);
    } catch (error) {
      this.options.rt.log.warn({ err: asPlumblineError(error), ref }, 'preview listener failed');
    }
  }

  private async dropStoredPlans(which: (plan: { preview?: { ref: string } | undefined }) => boolean): Promise<void> {
    const { rt } = this.options;
    const plans = (await rt.store.listPlans({ status: ['Preview'] })).filter(which);
    if (plans.length === 0) return;
    await rt.commit((tx) => t.previewsRemoved(tx, plans.map((p) => p.id)));
    for (const plan of plans) await rm(rt.paths.run(plan.runId), { recursive: true, force: true });
  }

  /** Start what may start: upstream first, within the concurrency, after the main branch's queued work. */
  wake(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump()
      .catch((error) => this.options.rt.log.warn({ err: asPlumblineError(error) }, 'preview scheduling failed'))
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async pump(): Promise<void> {
    const { rt, settings } = this.options;
    if (this.stopped) return;
    const ready = [...this.previews.values()].flatMap((preview) => preview.state.units.filter((u) => u.status === 'Queued' && this.upstreamDone(preview, u)).map((u) => ({ preview, unit: u })));
    if (ready.length === 0 || this.running >= settings.concurrency) return;
    if ((await rt.store.listRuns({ state: 'queued' })).length > 0) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.wake(), MAIN_BUSY_RETRY_MS);
      this.retryTimer.unref();
      return;
    }
    for (const { preview, unit } of ready) {
      if (this.running >= settings.concurrency) break;
      this.running += 1;
      void this.plan(preview, unit).finally(() => {
        this.running -= 1;
        this.wake();
      });
    }
  }

  /** Every upstream of the unit that this preview plans has been planned (or failed). */
  private upstreamDone(preview: Preview, unit: PreviewUnit): boolean {
    const def = preview.definitions.get(unit.name)!;
    return def.dependsOn.every((dep) => {
      const upstream = preview.state.units.find((u) => u.name === dep);
      return !upstream || upstream.status === 'Preview' || upstream.status === 'Failed';
    });
  }

  private async plan(preview: Preview, unit: PreviewUnit): Promise<void> {
    const { rt } = this.options;
    const def = preview.definitions.get(unit.name)!;
    const failedUpstream = def.dependsOn.find((dep) => preview.state.units.find((u) => u.name === dep)?.status === 'Failed');
    if (failedUpstream) {
      this.update(preview, unit.name, { status: 'Failed', error: `not planned: the preview of ${failedUpstream} failed` });
      return;
    }
    this.update(preview, unit.name, { status: 'Planning' });
    try {
      const done = await planPreviewUnit(rt, { unit: def, ref: preview.state.ref, revision: preview.state.revision, planned: preview.planned, signal: preview.abort.signal });
      if (this.previews.get(preview.state.ref) !== preview) {
        // Superseded while it was recorded: its plan goes with the rest.
        await rt.commit((tx) => t.previewsRemoved(tx, [done.plan.id]));
        return;
      }
      preview.planned.set(unit.name, done.plannedOutputs);
      this.update(preview, unit.name, { status: 'Preview', planId: done.plan.id, summary: done.plan.summary, excerpt: done.excerpt });
    } catch (error) {
      if (preview.abort.signal.aborted) return;
      const typed = unwrap(error);
      rt.log.warn({ unit: unit.name, ref: preview.state.ref, code: typed.code }, 'preview plan failed');
      this.update(preview, unit.name, { status: 'Failed', error: secrets.maskText(`${typed.code}: ${typed.message}${typed.hint ? ` (hint: ${typed.hint})` : ''}`) });
    }
  }

  private update(preview: Preview, name: string, patch: Partial<PreviewUnit>): void {
    if (this.previews.get(preview.state.ref) !== preview) return;
    preview.state.units = preview.state.units.map((u) => (u.name === name ? { ...u, ...patch } : u));
    preview.state.updatedAt = new Date().toISOString();
    this.announce(preview);
  }

  private announce(preview: Preview): void {
    try {
      this.options.listener?.previewUpdated(structuredClone(preview.state));
    } catch (error) {
      this.options.rt.log.warn({ err: asPlumblineError(error), ref: preview.state.ref }, 'preview listener failed');
    }
  }
}
