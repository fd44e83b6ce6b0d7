/**
 * The seam between merge-request previews and whoever reports them (the forge
 * reporting): the daemon hands a `PreviewListener` to the controller, which
 * calls it every time a ref's preview changes.
 */
import type { ChangeSummary } from '../model.js';

/** What a preview plan counts: the same summary as any plan. */
export type PlanSummary = ChangeSummary;

export type PreviewUnitStatus = 'Queued' | 'Planning' | 'Preview' | 'Failed';

export interface PreviewUnit {
  name: string;
  kind: string;
  planId?: string;
  status: PreviewUnitStatus;
  summary?: PlanSummary;
  /** The first lines of the rendered plan, masked. */
  excerpt?: string;
  error?: string;
}

export interface PreviewState {
  /** The previewed ref, e.g. `refs/heads/feature` or `refs/pull/7/head`. */
  ref: string;
  /** The head commit of the ref that was previewed. */
  revision: string;
  /** The merge base of that head with the watched branch. */
  mergeBase: string;
  /** In dependency order. */
  units: PreviewUnit[];
  updatedAt: string;
}

export interface PreviewListener {
  /** A preview changed (a unit queued, planned, failed), with the whole preview each time. */
  previewUpdated(preview: PreviewState): void;
  /** A ref's previews are gone (the ref was deleted or superseded by a newer head: then a previewUpdated for the new head follows). */
  previewRemoved(ref: string, revision: string): void;
}
