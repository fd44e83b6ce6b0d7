/**
 * Output references: a value written as `{fromOutput: "<unit>.<output>[.key|[index]]..."}`
 * in a unit's `vars` or in a provider's field (an inventory's `hostsFrom`) is replaced at plan time by
 * that output of an upstream unit, applied at the same or an earlier commit.
 * Pure: parsing, finding and resolving; the loader checks that every referenced
 * unit is a dependency.
 */
import { PlumblineError } from '../errors.ts';
import type { UnitDefinition } from './types.ts';

export const REFERENCE_KEY = 'fromOutput';

export interface OutputReference {
  /** The whole reference text (`network.subnets[0].id`). */
  text: string;
  unit: string;
  output: string;
  /** Further keys and indexes inside the output's value. */
  path: Array<string | number>;
}

export interface FoundReference {
  reference: OutputReference;
  /** Where in the manifest it sits (`vars.subnet_id`). */
  at: Array<string | number>;
}

/** The unit (first) segment may hold `/` (`prod/vpc.cidr`); output keys may not. */
const SEGMENT = /^([A-Za-z0-9_/-]+)|^\.([A-Za-z0-9_-]+)|^\[(\d+)\]/;

/** Parse `unit.output.key[0]`; undefined when malformed. */
export function parseReference(text: string): OutputReference | undefined {
  const parts: Array<string | number> = [];
  let rest = text.trim();
  let first = true;
  while (rest.length > 0) {
    const match = SEGMENT.exec(rest);
    if (!match || (first && !match[1]) || (!first && match[1])) return undefined;
    parts.push(match[3] !== undefined ? Number(match[3]) : (match[1] ?? match[2])!);
    rest = rest.slice(match[0].length);
    first = false;
  }
  const [unit, output, ...path] = parts;
  if (typeof unit !== 'string' || typeof output !== 'string') return undefined;
  return { text, unit, output, path };
}

/** Is this value a reference object (a mapping whose only key is `fromOutput`)? */
export function isReference(value: unknown): value is { fromOutput: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && REFERENCE_KEY in value;
}

/** Every reference inside a value, with its path; malformed ones are returned with `reference` undefined. */
export function findReferences(value: unknown, at: Array<string | number> = []): Array<{ at: Array<string | number>; raw: unknown; reference?: OutputReference }> {
  if (isReference(value)) {
    const raw = value.fromOutput;
    const reference = typeof raw === 'string' ? parseReference(raw) : undefined;
    return [{ at, raw, ...(reference ? { reference } : {}) }];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findReferences(v, [...at, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => findReferences(v, [...at, k]));
  return [];
}

export interface OutputSource {
  value: unknown;
  sensitive: boolean;
}

/**
 * Replace every reference in `value` by the output it names. `outputsOf` returns
 * the applied outputs of a unit (undefined if it has none yet). Reports whether
 * any sensitive output was used, so the caller treats the result as secret,
 * and the values taken from sensitive outputs.
 */
export function resolveReferences(
  value: unknown,
  outputsOf: (unit: string) => Record<string, OutputSource> | undefined,
  owner: string,
): { value: unknown; sensitive: boolean; sensitiveValues: unknown[] } {
  const sensitiveValues: unknown[] = [];
  const walk = (v: unknown): unknown => {
    if (isReference(v)) {
      const reference = typeof v.fromOutput === 'string' ? parseReference(v.fromOutput) : undefined;
      if (!reference) throw referenceError(owner, String(v.fromOutput), 'is not a reference of the form unit.output[.key]');
      const outputs = outputsOf(reference.unit);
      if (!outputs) throw referenceError(owner, reference.text, `needs ${reference.unit} to be applied first; it has no outputs yet`);
      const output = outputs[reference.output];
      if (!output) {
        const known = Object.keys(outputs).sort().join(', ') || 'none';
        throw referenceError(owner, reference.text, `names no output of ${reference.unit} (its outputs: ${known})`);
      }
      const found = dig(output.value, reference, owner);
      if (output.sensitive) sensitiveValues.push(found);
      return found;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const resolved = walk(value);
  return { value: resolved, sensitive: sensitiveValues.length > 0, sensitiveValues };
}

/** The units whose outputs a unit takes: a `fromOutput` in its `vars` or its provider's fields. */
export function upstreamsOf(unit: Pick<UnitDefinition, 'vars' | 'spec'>): Set<string> {
  return new Set(findReferences([unit.vars, unit.spec]).flatMap((r) => (r.reference ? [r.reference.unit] : [])));
}

function dig(value: unknown, reference: OutputReference, owner: string): unknown {
  let current = value;
  for (const key of reference.path) {
    if (current === null || typeof current !== 'object' || !(key in (current as Record<string | number, unknown>))) {
      throw referenceError(owner, reference.text, `has no ${typeof key === 'number' ? `index ${key}` : `key "${key}"`} in the output's value`);
    }
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function referenceError(owner: string, text: string, why: string): PlumblineError {
  return new PlumblineError('E_OUTPUT_REFERENCE', `${owner}: fromOutput "${text}" ${why}`, {
    retry: 'stalled',
    hint: 'check the output names of the upstream unit (plumbline show on its last plan) and its dependsOn',
  });
}
