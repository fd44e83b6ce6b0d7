import { createHash } from 'node:crypto';
import { unitFileName } from '../paths.ts';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A plan's id is derived from what it is: the unit, the commit, the inputs it was
 * made from and what it would do. Approving an id approves exactly that content;
 * any change to any of them yields another id.
 */
export function planId(parts: { unit: string; revision: string; inputsHash: string; fingerprint: string }): string {
  const digest = sha256(JSON.stringify([parts.unit, parts.revision, parts.inputsHash, parts.fingerprint])).slice(0, 10);
  // `prod/vpc` reads `prod~vpc`: an id is one URL path segment and one file name.
  return `${unitFileName(parts.unit)}-${parts.revision.slice(0, 8)}-${digest}`;
}
