import { ConflictError, NotFoundError } from '../errors.ts';
import type { ChangeSet } from '../model.ts';
import { isChangeSetId, isChangeSetRef, type EngineFacade } from './contract.ts';

/** How many matching ids an ambiguous prefix names in its error. */
const SHOWN_MATCHES = 5;

/**
 * The id of the change set a reference names: an id as it is, or the one
 * change set whose commit starts with the given hex digits. The lookup runs over
 * `listChangeSets()`, so the engine needs no prefix search of its own.
 */
export async function resolveChangeSetId(facade: Pick<EngineFacade, 'listChangeSets'>, ref: string): Promise<string> {
  if (!isChangeSetRef(ref)) return ref;
  const wanted = ref.toLowerCase();
  if (isChangeSetId(wanted)) return wanted;
  const matches = matchingChangeSets(await facade.listChangeSets(), wanted.slice('cs-'.length));
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) {
    throw new NotFoundError('E_CHANGESET_NOT_FOUND', `no change set ${ref}`, { hint: 'list change sets with: plumbline changesets' });
  }
  const shown = matches.slice(0, SHOWN_MATCHES).map((c) => c.id);
  const more = matches.length > SHOWN_MATCHES ? ` and ${matches.length - SHOWN_MATCHES} more` : '';
  throw new ConflictError('E_CHANGESET_AMBIGUOUS', `${ref} names ${matches.length} change sets: ${shown.join(', ')}${more}`, {
    hint: 'give more characters of the commit (plumbline changesets lists them)',
  });
}

/** Change sets whose id or commit starts with `hex`. */
function matchingChangeSets(changeSets: readonly ChangeSet[], hex: string): ChangeSet[] {
  return changeSets.filter((c) => c.id.startsWith(`cs-${hex}`) || c.revision.startsWith(hex));
}
