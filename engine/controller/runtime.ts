import type { DaemonConfig } from '../config/types.ts';
import type { UnitDefinition } from '../definitions/types.ts';
import type { Logger } from '../log.ts';
import type { StatePaths } from '../paths.ts';
import type { Provider } from '../provider.ts';
import type { GitSource } from '../source/git-source.ts';
import type { RunRecord, Store, StoredPlan, StoreTx } from '../store/types.ts';

/** What the runs need from the controller that owns them. */
export interface Runtime {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly source: GitSource;
  readonly paths: StatePaths;
  readonly log: Logger;
  provider(kind: string): Provider;
  /** The unit as the repository defines it now. */
  definition(unit: string): UnitDefinition | undefined;
  /** The unit now, or as it was at `revision` (a unit removed since: its destroy). */
  definitionAt(unit: string, revision: string): Promise<UnitDefinition | undefined>;
  /** Units whose dependsOn names `unit`. */
  dependantsOf(unit: string): UnitDefinition[];
  /** One transaction of transitions; the scheduler looks again after it (a phase changed). */
  commit<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * A transaction of a run: refused (E_FENCED) unless this member still holds
   * the run's claim with its fencing token, so a member that was paused past
   * its lease and comes back writes nothing.
   */
  commitRun<T>(run: RunRecord, fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** This worker's name in the run queue. */
  readonly member: string;
  /** Until when a claim of a run made now holds (renewed while it runs here). */
  leaseUntil(): string;
  /** A plan whose review window ends later: apply it then unless rejected. */
  armReviewWindow(plan: StoredPlan): void;
  /** Run folders of runs in progress: never cleaned up under them. */
  readonly activeRuns: Set<string>;
  isStopping(): boolean;
  /** Is a plan of `unit` queued (or running) that was asked for after `run`? */
  newerPlanQueued(unit: string, after: Pick<RunRecord, 'id' | 'createdAt'> | { createdAt: string }): Promise<boolean>;
  /** The change set runs of this commit belong to (the head's), for dependants planned again. */
  headChangeSet(): string | undefined;
}
