/** The previews' seam (engine/previews/types.ts), as the forge reporting reads it. */
export type { PreviewListener, PreviewState, PreviewUnit, PreviewUnitStatus } from '../previews/types.ts';
