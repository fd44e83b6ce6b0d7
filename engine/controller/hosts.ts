import type { PlumblineError } from '../errors.ts';
import type { HostStatus } from '../provider.ts';

/** The per-host results a provider attached to an error (`details.hosts`), if any. */
export function hostsOf(error: PlumblineError): HostStatus[] | undefined {
  const hosts = error.details?.hosts;
  return Array.isArray(hosts) ? (hosts as HostStatus[]) : undefined;
}

/**
 * The unit's hosts after a run limited to some of them (a remediation of the
 * drifted hosts): those in the run take its result, the others keep their last
 * known state instead of "not in this run". Order: as the unit listed them,
 * then hosts it did not know.
 */
export function mergeHosts(known: readonly HostStatus[] | undefined, run: readonly HostStatus[], limit: readonly string[] | undefined): HostStatus[] {
  if (!limit || !known) return [...run];
  const inRun = new Map(run.filter((h) => limit.includes(h.name)).map((h) => [h.name, h]));
  const merged = known.map((h) => inRun.get(h.name) ?? h);
  for (const h of inRun.values()) if (!known.some((k) => k.name === h.name)) merged.push(h);
  return merged;
}
