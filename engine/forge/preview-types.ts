/**
 * The previews' seam, as the forge reporting reads it. The previews declare
 * it in engine/previews/types.ts; these are the same shapes, kept here until
 * both land together (then this file re-exports theirs).
 */
import type { ChangeSummary } from '../model.ts';

export type PreviewUnitStatus = 'Queued' | 'Planning' | 'Preview' | 'Failed';

export interface PreviewUnit {
  name: string;
  kind: string;
  planId?: string;
  status: PreviewUnitStatus;
  summary?: ChangeSummary;
  /** The first lines of the rendered plan, masked. */
  excerpt?: string;
  error?: string;
}

export interface PreviewState {
  ref: string;
  revision: string;
  mergeBase: string;
  /** In dependency order. */
  units: PreviewUnit[];
  updatedAt: string;
}

export interface PreviewListener {
  previewUpdated(preview: PreviewState): void;
  previewRemoved(ref: string, revision: string): void;
}
