import type { PlumblineError } from '../errors.ts';
import type { HostStatus } from '../provider.ts';

/** The per-host results a provider attached to an error (`details.hosts`), if any. */
export function hostsOf(error: PlumblineError): HostStatus[] | undefined {
  const hosts = error.details?.hosts;
  return Array.isArray(hosts) ? (hosts as HostStatus[]) : undefined;
}
