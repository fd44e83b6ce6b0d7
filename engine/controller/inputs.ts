import { readFile } from 'node:fs/promises';
import type { StackSpec, UnitDefinition } from '../definitions/types.ts';
import { PlumblineError } from '../errors.ts';
import { secrets } from '../secrets.ts';
import { sha256 } from './plan-id.ts';

export interface ResolvedInputs {
  vars: Record<string, unknown>;
  sensitiveVars: string[];
  /** Hash of everything the plan is made from; secrets enter only as hashes. */
  inputsHash: string;
}

/**
 * Resolve a unit's variables: the plain `vars` from Git, and `secretVars` read
 * on the control host (environment or file). Secret values are registered for
 * masking before anything can print them.
 */
export async function resolveInputs(unit: UnitDefinition, revision: string): Promise<ResolvedInputs> {
  const spec = unit.spec as Partial<StackSpec>;
  const vars: Record<string, unknown> = { ...(spec.vars ?? {}) };
  const sensitiveVars: string[] = [];
  const secretHashes: Record<string, string> = {};
  for (const [name, from] of Object.entries(spec.secretVars ?? {})) {
    const value = await readSecret(unit, name, from);
    secrets.add(value);
    vars[name] = value;
    sensitiveVars.push(name);
    secretHashes[name] = sha256(value);
  }
  const plain = Object.fromEntries(Object.entries(vars).filter(([k]) => !sensitiveVars.includes(k)));
  const inputsHash = sha256(JSON.stringify({ manifest: unit.manifestHash, revision, plain, secrets: secretHashes }));
  return { vars, sensitiveVars, inputsHash };
}

async function readSecret(unit: UnitDefinition, name: string, from: { env?: string; file?: string }): Promise<string> {
  if (from.env !== undefined) {
    const value = process.env[from.env];
    if (value === undefined) {
      throw new PlumblineError('E_SECRET_MISSING', `secret variable ${name} of ${unit.name}: environment variable ${from.env} is not set`, {
        retry: 'stalled',
        hint: `set ${from.env} in the daemon's environment (for example in its systemd unit) and run plumbline sync`,
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
        hint: 'create the file on the control host, readable by the daemon, and run plumbline sync',
        cause: error,
      });
    }
  }
  throw new PlumblineError('E_SECRET_MISSING', `secret variable ${name} of ${unit.name} has no source`, { retry: 'stalled' });
}
