import { z } from 'zod';
import { forgeJson, ownerAndName, postGitHubStyleStatus } from './http.ts';
import { collectPages } from './pages.ts';
import type { CommitStatus, ForgeClient, ForgeComment, ForgeSettings } from './types.ts';

const PAGE = 50;

const comment = z.object({ id: z.number(), body: z.string().nullish() });
const pull = z.object({
  number: z.number(),
  head: z.object({ ref: z.string(), repo: z.object({ full_name: z.string() }).nullish() }),
});

/** Gitea and Forgejo (one API), `/api/v1`: `url` is the instance (`https://codeberg.org`). */
export class GiteaClient implements ForgeClient {
  readonly type = 'gitea';
  /** Gitea documents no limit; GitHub's keeps a comment readable. */
  readonly commentLimit = 65_535;
  private readonly repo: string;

  constructor(
    private readonly settings: ForgeSettings,
    private readonly token: string,
  ) {
    this.repo = `${settings.url}/api/v1/repos/${ownerAndName(settings.repository)}`;
  }

  private get headers(): Record<string, string> {
    return { authorization: `token ${this.token}`, accept: 'application/json' };
  }

  async postStatus(sha: string, status: CommitStatus): Promise<void> {
    await postGitHubStyleStatus(this.repo, this.headers, sha, status);
  }

  /** Gitea's pull list cannot filter by head branch: the open ones are read and matched, a fork's branch of the same name excluded. */
  async findMergeRequest(branch: string): Promise<number | null> {
    const pulls = await collectPages(PAGE, (page) => {
      const query = new URLSearchParams({ state: 'open', page: String(page), limit: String(PAGE) });
      return forgeJson({ method: 'GET', url: `${this.repo}/pulls?${query}`, headers: this.headers, what: `find the pull request of ${branch}` }, z.array(pull));
    });
    const ours = (p: z.infer<typeof pull>) => !p.head.repo || p.head.repo.full_name.toLowerCase() === this.settings.repository.toLowerCase();
    return pulls.find((p) => p.head.ref === branch && ours(p))?.number ?? null;
  }

  async listComments(index: number): Promise<ForgeComment[]> {
    const list = await forgeJson({ method: 'GET', url: `${this.repo}/issues/${index}/comments`, headers: this.headers, what: `read the comments of #${index}` }, z.array(comment));
    return list.map((c) => ({ id: c.id, body: c.body ?? '' }));
  }

  async createComment(index: number, body: string): Promise<number> {
    const created = await forgeJson({ method: 'POST', url: `${this.repo}/issues/${index}/comments`, headers: this.headers, body: { body }, what: `comment on #${index}` }, comment);
    return created.id;
  }

  async updateComment(index: number, id: number, body: string): Promise<void> {
    await forgeJson({ method: 'PATCH', url: `${this.repo}/issues/comments/${id}`, headers: this.headers, body: { body }, what: `update the comment on #${index}` }, z.unknown());
  }
}
