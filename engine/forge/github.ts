import { z } from 'zod';
import { forgeJson, ownerAndName, postGitHubStyleStatus } from './http.ts';
import { collectPages } from './pages.ts';
import type { CommitStatus, ForgeClient, ForgeComment, ForgeSettings } from './types.ts';

const API_VERSION = '2022-11-28';
const PAGE = 100;

const comment = z.object({ id: z.number(), body: z.string().nullish() });
const pull = z.object({ number: z.number(), head: z.object({ ref: z.string() }) });

/** GitHub (and GitHub Enterprise Server: `url` is then `https://HOST/api/v3`), REST API 2022-11-28. */
export class GitHubClient implements ForgeClient {
  readonly type = 'github';
  readonly commentLimit = 65_535;
  private readonly repo: string;
  private readonly owner: string;

  constructor(
    private readonly settings: ForgeSettings,
    private readonly token: string,
  ) {
    this.repo = `${settings.url}/repos/${ownerAndName(settings.repository)}`;
    this.owner = settings.repository.split('/')[0]!;
  }

  private get headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, accept: 'application/vnd.github+json', 'x-github-api-version': API_VERSION };
  }

  async postStatus(sha: string, status: CommitStatus): Promise<void> {
    await postGitHubStyleStatus(this.repo, this.headers, sha, status);
  }

  async findMergeRequest(branch: string): Promise<number | null> {
    const query = new URLSearchParams({ head: `${this.owner}:${branch}`, state: 'open' });
    const pulls = await forgeJson({ method: 'GET', url: `${this.repo}/pulls?${query}`, headers: this.headers, what: `find the pull request of ${branch}` }, z.array(pull));
    return pulls.find((p) => p.head.ref === branch)?.number ?? null;
  }

  listComments(number: number): Promise<ForgeComment[]> {
    return collectPages(PAGE, async (page) => {
      const query = new URLSearchParams({ per_page: String(PAGE), page: String(page) });
      const list = await forgeJson({ method: 'GET', url: `${this.repo}/issues/${number}/comments?${query}`, headers: this.headers, what: `read the comments of #${number}` }, z.array(comment));
      return list.map((c) => ({ id: c.id, body: c.body ?? '' }));
    });
  }

  async createComment(number: number, body: string): Promise<number> {
    const created = await forgeJson({ method: 'POST', url: `${this.repo}/issues/${number}/comments`, headers: this.headers, body: { body }, what: `comment on #${number}` }, comment);
    return created.id;
  }

  async updateComment(number: number, id: number, body: string): Promise<void> {
    await forgeJson({ method: 'PATCH', url: `${this.repo}/issues/comments/${id}`, headers: this.headers, body: { body }, what: `update the comment on #${number}` }, z.unknown());
  }
}
