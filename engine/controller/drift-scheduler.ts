import type { DriftPolicy } from '../definitions/types.ts';
import type { Logger } from '../log.ts';
import { setLongTimeout, type LongTimer } from '../timers.ts';

/**
 * One jittered timer per unit with drift checks on. A check that cannot run now
 * (the unit is planning, applying or waiting) is simply tried at the next tick.
 */
export class DriftScheduler {
  private readonly timers = new Map<string, LongTimer>();
  private stopped = false;

  constructor(
    private readonly host: {
      policyOf(unit: string): DriftPolicy | undefined;
      check(unit: string): Promise<unknown>;
      log: Logger;
    },
  ) {}

  /** (Re)arm the units given; units not listed keep their timers. */
  arm(units: Iterable<string>): void {
    for (const unit of units) this.armOne(unit);
  }

  /** Stop the timers of units that no longer exist. */
  retain(units: ReadonlySet<string>): void {
    for (const [unit, timer] of this.timers) {
      if (units.has(unit)) continue;
      timer?.clear();
      this.timers.delete(unit);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) timer?.clear();
    this.timers.clear();
  }

  private armOne(unit: string): void {
    this.timers.get(unit)?.clear();
    this.timers.delete(unit);
    const interval = this.host.policyOf(unit)?.intervalMs;
    if (this.stopped || !interval) return;
    const timer = setLongTimeout(() => {
      this.timers.delete(unit);
      void this.host
        .check(unit)
        .catch((error) => this.host.log.warn({ unit, err: error }, 'drift check could not start'))
        .finally(() => this.armOne(unit));
    }, interval * (0.9 + Math.random() * 0.2));
    this.timers.set(unit, timer);
  }
}
