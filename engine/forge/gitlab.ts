import { z } from 'zod';
import { forgeJson, MAX_STATUS_DESCRIPTION } from './http.ts';
import { collectPages } from './pages.ts';
import type { CommitState, CommitStatus, ForgeClient, ForgeComment, ForgeSettings } from './types.ts';

const PAGE = 100;
const STATES: Record<CommitState, string> = { pending: 'pending', success: 'success', failure: 'failed' };

const note = z.object({ id: z.number(), body: z.string().nullish(), system: z.boolean().optional() });
const mergeRequest = z.object({ iid: z.number(), source_branch: z.string() });

/** GitLab, REST API v4: `url` is the instance (`https://gitlab.com`), `repository` the project path. */
export class GitLabClient implements ForgeClient {
  readonly type = 'gitlab';
  readonly commentLimit = 1_000_000;
  private readonly project: string;

  constructor(
    settings: ForgeSettings,
    private readonly token: string,
  ) {
    this.project = `${settings.url}/api/v4/projects/${encodeURIComponent(settings.repository)}`;
  }

  private get headers(): Record<string, string> {
    return { 'private-token': this.token, accept: 'application/json' };
  }

  async postStatus(sha: string, status: CommitStatus): Promise<void> {
    await forgeJson(
      {
        method: 'POST',
        url: `${this.project}/statuses/${encodeURIComponent(sha)}`,
        headers: this.headers,
        body: { state: STATES[status.state], name: status.context, description: status.description.slice(0, MAX_STATUS_DESCRIPTION), ...(status.targetUrl ? { target_url: status.targetUrl } : {}) },
        what: `post the status ${status.context}`,
      },
      z.unknown(),
    );
  }

  async findMergeRequest(branch: string): Promise<number | null> {
    const query = new URLSearchParams({ source_branch: branch, state: 'opened' });
    const list = await forgeJson({ method: 'GET', url: `${this.project}/merge_requests?${query}`, headers: this.headers, what: `find the merge request of ${branch}` }, z.array(mergeRequest));
    return list.find((m) => m.source_branch === branch)?.iid ?? null;
  }

  async listComments(iid: number): Promise<ForgeComment[]> {
    const notes = await collectPages(PAGE, async (page) => {
      const query = new URLSearchParams({ per_page: String(PAGE), page: String(page), sort: 'asc', order_by: 'created_at' });
      return forgeJson({ method: 'GET', url: `${this.project}/merge_requests/${iid}/notes?${query}`, headers: this.headers, what: `read the notes of !${iid}` }, z.array(note));
    });
    // System notes ("added 1 commit") are GitLab's own, never Plumbline's.
    return notes.filter((n) => !n.system).map((n) => ({ id: n.id, body: n.body ?? '' }));
  }

  async createComment(iid: number, body: string): Promise<number> {
    const created = await forgeJson({ method: 'POST', url: `${this.project}/merge_requests/${iid}/notes`, headers: this.headers, body: { body }, what: `comment on !${iid}` }, note);
    return created.id;
  }

  async updateComment(iid: number, id: number, body: string): Promise<void> {
    await forgeJson({ method: 'PUT', url: `${this.project}/merge_requests/${iid}/notes/${id}`, headers: this.headers, body: { body }, what: `update the note on !${iid}` }, z.unknown());
  }
}
