import { gitea } from './gitea.ts';
import { github } from './github.ts';
import { gitlab } from './gitlab.ts';

export { ForgeStandIn, type StoredStatus, type StoredComment, type Failure } from './stand-in.ts';

/** One stand-in dialect per forge type. */
export const FORGE_DIALECTS = { github, gitlab, gitea } as const;
