import { readFile } from 'node:fs/promises';
import type { SecretSource, UnitDefinition } from '../definitions/types.ts';
import { findReferences, resolveReferences, type OutputSource } from '../definitions/references.ts';
import { PlumblineError } from '../errors.ts';
import { secrets } from '../secrets.ts';
import type { Store, StoreTx } from '../store/types.ts';
import { sha256 } from './plan-id.ts';

export interface ResolvedInputs {
  vars: Record<string, unknown>;
  sensitiveVars: string[];
  /** The provider's spec with its references resolved (`RunRequest.resolvedSpec`). */
  resolvedSpec: unknown;
  /** Hash of everything the plan is made from; secrets enter only as hashes. */
  inputsHash: string;
}

/** Applied outputs of a unit, values in clear (dependants need them): registered as secrets where sensitive. */
export type OutputsReader = (unit: string) => Promise<Record<string, OutputSource> | undefined>;

export function outputsFromStore(store: Pick<Store, 'getOutputs'>): OutputsReader {
  return async (unit) => {
    const outputs = await store.getOutputs(unit);
    for (const output of Object.values(outputs ?? {})) if (output.sensitive) secrets.add(output.value);
    return outputs;
  };
}

/**
 * Keep a unit's applied outputs in the store, in the transaction of the run
 * that produced them (every member's dependants read them there). Returns
 * whether they changed.
 */
export async function putOutputs(tx: StoreTx, unit: string, outputs: Record<string, OutputSource>): Promise<boolean> {
  const previous = await tx.getOutputs(unit);
  if (previous !== undefined && canonical(previous) === canonical(outputs)) return false;
  await tx.putOutputs(unit, outputs);
  return previous === undefined ? Object.keys(outputs).length > 0 : true;
}

/** An older version kept outputs in `<stateDir>/units/<unit>/outputs.json`: read once into the store. */
export async function importOutputFile(file: string): Promise<Record<string, OutputSource> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, OutputSource>;
  } catch {
    return undefined;
  }
}

/** Key order must not make equal outputs look different. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Resolve a unit's inputs: the plain `vars` from Git with their `fromOutput`
 * references replaced by upstream outputs, `secretVars` read on the control
 * host, and the references in the provider's own fields (an inventory's
 * `hostsFrom`). Every secret value (and every sensitive output used) is
 * registered for masking before anything can print it.
 */
export async function resolveInputs(unit: UnitDefinition, revision: string, outputsOf: OutputsReader): Promise<ResolvedInputs> {
  const upstream = new Map<string, Record<string, OutputSource> | undefined>();
  for (const dep of unit.dependsOn) upstream.set(dep, await outputsOf(dep));
  const lookup = (name: string) => upstream.get(name);

  const vars: Record<string, unknown> = {};
  const sensitiveVars: string[] = [];
  for (const [name, raw] of Object.entries(unit.vars)) {
    const resolved = resolveReferences(raw, lookup, unit.name);
    vars[name] = resolved.value;
    if (resolved.sensitive) {
      sensitiveVars.push(name);
      secrets.add(resolved.value);
    }
  }
  for (const [name, from] of Object.entries(unit.secretVars)) {
    const value = await readSecret(unit, name, from);
    secrets.add(value);
    vars[name] = value;
    sensitiveVars.push(name);
  }
  const hasReferences = findReferences(unit.spec).length > 0;
  const spec = hasReferences ? resolveReferences(unit.spec, lookup, unit.name) : undefined;
  for (const value of spec?.sensitiveValues ?? []) secrets.add(value);

  const hashed = Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, sensitiveVars.includes(k) ? `sha256:${sha256(JSON.stringify(v))}` : v]),
  );
  // The spec's static part is in the manifest's hash; what its references
  // resolved to is hashed here. The key is `hosts` because an inventory's
  // hostsFrom was once the only such field: another key would change the
  // inputs, and so the plan ids, of every unit without references.
  const references = spec ? sha256(JSON.stringify(spec.value)) : null;
  const inputsHash = sha256(JSON.stringify({ manifest: unit.manifestHash, revision, vars: hashed, hosts: references }));
  return { vars, sensitiveVars, inputsHash, resolvedSpec: spec ? spec.value : unit.spec };
}

async function readSecret(unit: UnitDefinition, name: string, from: SecretSource): Promise<string> {
  if (from.env !== undefined) {
    const value = process.env[from.env];
    if (value === undefined) {
      throw new PlumblineError('E_SECRET_MISSING', `secret variable ${name} of ${unit.name}: environment variable ${from.env} is not set`, {
        retry: 'stalled',
        hint: `set ${from.env} in the daemon's environment (for example in its systemd unit) and run plumbline sync --unit ${unit.name}`,
      });
    }
    return value;
  }
  if (from.file !== undefined) {
    try {
      return (await readFile(from.file, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new PlumblineError('E_SECRET_MISSING', `secret variable ${name} of ${unit.name}: cannot read ${from.file}`, {
        retry: 'stalled',
        hint: `create the file on the control host, readable by the daemon, and run plumbline sync --unit ${unit.name}`,
        cause: error,
      });
    }
  }
  throw new PlumblineError('E_SECRET_MISSING', `secret variable ${name} of ${unit.name} has no source`, { retry: 'stalled' });
}
