import type { Actor } from './types.ts';

/** What a history event records of who took a decision: the token's name and where the request came from. */
export function auditFields(actor: Actor): { actor: string; remote?: string } {
  return { actor: actor.name, ...(actor.remote ? { remote: actor.remote } : {}) };
}

/** `alice from 10.0.0.7`, for event messages. */
export function describeActor(actor: Actor): string {
  return actor.remote ? `${actor.name} from ${actor.remote}` : actor.name;
}

/** A socket's peer address as people write it (`::ffff:10.0.0.7` is `10.0.0.7`). */
export function remoteAddress(address: string | undefined): string | undefined {
  return address?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}
