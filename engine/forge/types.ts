/**
 * What the forge reporting needs from a forge (GitHub, GitLab, Gitea or
 * Forgejo): commit statuses, the open merge request of a branch, and the
 * comments on it. Each forge type implements it with its own REST API.
 */

export const FORGE_TYPES = ['github', 'gitlab', 'gitea'] as const;
export type ForgeType = (typeof FORGE_TYPES)[number];

/** The normalized `forge:` section of the daemon config. */
export interface ForgeSettings {
  type: ForgeType;
  /** The API root (GitHub: https://api.github.com) or the instance (GitLab, Gitea), without a trailing slash. */
  url: string;
  /** `owner/name`; GitLab: the project path (`group/subgroup/project`). */
  repository: string;
  /** Absolute; the API token on its first line. */
  tokenFile: string;
  /** Absolute; the secret webhooks are signed with. Null: `POST /hooks/git` is off. */
  webhookSecretFile: string | null;
}

/** The states Plumbline posts; each client maps them onto its forge's words. */
export type CommitState = 'pending' | 'success' | 'failure';

export interface CommitStatus {
  /** `plumbline/<unit>`. */
  context: string;
  state: CommitState;
  description: string;
  targetUrl?: string;
}

export interface ForgeComment {
  id: number;
  body: string;
}

export interface ForgeClient {
  readonly type: ForgeType;
  /** The longest comment body the forge takes, in characters. */
  readonly commentLimit: number;
  postStatus(sha: string, status: CommitStatus): Promise<void>;
  /** The number (GitLab: iid) of the open merge request whose source branch is `branch`; null when there is none. */
  findMergeRequest(branch: string): Promise<number | null>;
  /** The comments (GitLab: notes) on a merge request, oldest first, every page. */
  listComments(mergeRequest: number): Promise<ForgeComment[]>;
  createComment(mergeRequest: number, body: string): Promise<number>;
  updateComment(mergeRequest: number, id: number, body: string): Promise<void>;
}
