import type { StoreSettings } from './types.ts';

/** Retention when the config says nothing: plans 90 days, history 400 days (a year and its review). */
export const DEFAULT_STORE_RETENTION: StoreSettings['retention'] = {
  plansMs: 90 * 86_400_000,
  historyMs: 400 * 86_400_000,
};
