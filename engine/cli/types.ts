import type { ChangeSummary } from '../model.ts';

/**
 * One unit's outcome of `plumbline plan` on a working tree (no daemon involved).
 * `state`: `planned` (see `summary`), `waiting` (an upstream it takes outputs
 * from was never applied: nothing to plan yet, and not a failure), `failed`.
 */
export interface LocalPlanResult {
  unit: string;
  kind: string;
  state: 'planned' | 'waiting' | 'failed';
  /** False only when the unit failed. */
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
  /** `waiting`: the upstream units whose outputs it needs. */
  waitingFor?: string[];
  /** `waiting`: why, for people. */
  message?: string;
  error?: { code: string; message: string; hint?: string };
}

/** Where the CLI writes. Tests inject their own; the default is the process streams. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The terminal's width when stdout is one; undefined for a pipe or a file (nothing is wrapped). */
  readonly columns?: number | undefined;
}
