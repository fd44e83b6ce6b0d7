import type { DaemonConfig } from '../config/types.ts';
import type { UnitDefinition } from '../definitions/types.ts';
import type { Logger } from '../log.ts';
import type { UnitStatus } from '../model.ts';
import type { StatePaths } from '../paths.ts';
import type { Provider } from '../provider.ts';
import type { GitSource } from '../source/git-source.ts';
import type { Store, StoredPlan } from '../store/store.ts';

/** What plan and apply runs need from the controller that owns them. */
export interface Runtime {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly source: GitSource;
  readonly paths: StatePaths;
  readonly log: Logger;
  provider(kind: string): Provider;
  definition(unit: string): UnitDefinition | undefined;
  /** The newest revision a plan was scheduled for; older runs are superseded. */
  desiredRevision(unit: string): string | undefined;
  setUnit(name: string, patch: Partial<UnitStatus>): Promise<UnitStatus>;
  scheduleApply(plan: StoredPlan): void;
  armReviewWindow(plan: StoredPlan): void;
  retryLater(unit: string, error: { retry: string }): void;
  resetRetries(unit: string): void;
  isStopping(): boolean;
  /** Run folders of runs in progress: never cleaned up under them. */
  readonly activeRuns: Set<string>;
  /** The change set a unit's current run belongs to. */
  changeSetFor(unit: string): string | undefined;
  changeSetRecord(id: string): import('../model.ts').ChangeSet | undefined;
  /** Plan the unit again at its newest revision (its approved plan went stale). */
  replan(unit: string): void;
  /** An apply changed the unit's outputs: its dependants must plan again. */
  outputsChanged(unit: string): void;
  /** Why the unit is planned again without a new commit (an upstream's outputs changed); read once. */
  replanReason(unit: string): string | undefined;
  /** A pruned unit's destroy is done (or there was nothing to destroy): it stays in history only. */
  forget(unit: string, message: string): Promise<void>;
}
