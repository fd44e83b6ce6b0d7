import picomatch from 'picomatch';
import { isInside } from '../definitions/unit-paths.ts';
import type { SandboxGrant, SandboxNeeds, SandboxSettings, SandboxSpec } from './types.ts';

/** The grants of plumbline.yaml whose unit globs match `unit`. */
export function grantsFor(settings: SandboxSettings, unit: string | null): SandboxGrant[] {
  if (unit === null) return [];
  return settings.grants.filter((grant) => grant.units.some((glob) => picomatch.isMatch(unit, glob, { dot: true })));
}

/**
 * The sandbox of one tool process: what the provider says its tool needs,
 * plus what the operator granted to `unit` (null for a process that belongs
 * to no unit, which gets no grant).
 */
export function sandboxFor(settings: SandboxSettings, unit: string | null, needs: SandboxNeeds): SandboxSpec {
  const grants = grantsFor(settings, unit);
  const capabilities = [...new Set(grants.flatMap((g) => g.capabilities))];
  return {
    mode: settings.mode,
    readOnly: present([...(needs.readOnly ?? []), ...grants.flatMap((g) => g.readable)]),
    readWrite: present([...(needs.readWrite ?? []), ...grants.flatMap((g) => g.writable)]),
    ...(grants.some((g) => g.outlive) ? { outlive: true } : {}),
    ...(capabilities.length > 0 ? { capabilities } : {}),
  };
}

/** Does a grant of `unit` cover `path` (the path itself or a folder above it)? */
export function isGranted(settings: SandboxSettings, unit: string, path: string): boolean {
  return grantsFor(settings, unit).some((g) => [...g.readable, ...g.writable].some((granted) => isInside(granted, path)));
}

function present(paths: readonly (string | null | undefined)[]): string[] {
  return [...new Set(paths.filter((p): p is string => typeof p === 'string' && p !== ''))];
}
