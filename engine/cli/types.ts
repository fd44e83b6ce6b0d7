import type { ChangeSummary } from '../model.ts';

/** One unit's outcome of `plumbline plan` on a working tree (no daemon involved). */
export interface LocalPlanResult {
  unit: string;
  kind: string;
  ok: boolean;
  summary?: ChangeSummary;
  /** Set by the provider: a plan can change outputs only, with a zero summary. */
  hasChanges?: boolean;
  /** Masked text rendering of the plan. */
  rendered?: string;
  /** Steps the tool cannot predict (`host => task`): shown, never counted as changes. */
  uncertain?: string[];
  /** Warnings the tool printed, masked. */
  warnings?: string[];
  error?: { code: string; message: string; hint?: string };
}

/** Where the CLI writes. Tests inject their own; the default is the process streams. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
}
