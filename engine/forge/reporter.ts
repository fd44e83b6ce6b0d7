import type { Logger } from '../log.ts';
import type { HistoryEvent } from '../model.ts';
import { secrets } from '../secrets.ts';
import { COMMENT_MARKER, firstLine, planLink, previewStatus, renderComment, statusContext, type CommentLinks } from './comment.ts';
import { DeliveryQueue, type DeliveryOptions } from './delivery.ts';
import { ForgeError } from './errors.ts';
import type { PreviewListener, PreviewState } from './preview-types.ts';
import type { CommitStatus, ForgeClient } from './types.ts';

export interface ForgeReporterOptions {
  client: ForgeClient;
  log: Logger;
  /** The UI's origin, asked each time (the API's port may be known only once it listens). */
  uiBase: () => string | undefined;
  /** What a plan is for: drift checks' plans are not the merge commit's, and post nothing. */
  planPurpose?: (planId: string) => Promise<string | undefined>;
  delivery?: DeliveryOptions;
}

/** Statuses remembered as sent, so an unchanged one is not posted again. */
const SENT_MEMORY = 5000;

/**
 * Tells the forge what Plumbline does: a commit status per unit on each
 * previewed commit, one comment per merge request (updated in place), and
 * the statuses of the watched branch's plans and applies on its commits
 * (after a merge: the merge commit). Everything goes through the delivery
 * queue: nothing here waits on the forge or fails because of it.
 */
export class ForgeReporter implements PreviewListener {
  private readonly queue: DeliveryQueue;
  private readonly sent = new Map<string, string>();
  /** Merge request of a branch, and the id of Plumbline's comment on a merge request, as found. */
  private readonly mergeRequests = new Map<string, number>();
  private readonly comments = new Map<number, number>();

  constructor(private readonly options: ForgeReporterOptions) {
    this.queue = new DeliveryQueue(options.log, options.delivery);
  }

  // PreviewListener

  previewUpdated(preview: PreviewState): void {
    const links = this.links();
    for (const unit of preview.units) this.postStatus(preview.revision, previewStatus(unit, links));
    const body = secrets.maskText(renderComment(preview, links, this.options.client.commentLimit));
    this.queue.put(`comment ${preview.ref}`, `the comment of ${preview.ref}`, () => this.upsertComment(preview.ref, body));
  }

  previewRemoved(ref: string): void {
    // The branch may be gone or pushed again: its merge request is looked up afresh next time.
    this.mergeRequests.delete(ref);
  }

  // The watched branch

  /** A history event of the engine (store.onHistory): plans and applies of the watched branch become statuses on their commit. */
  historyEvent(event: HistoryEvent): void {
    if (!event.unit || !event.revision) return;
    const state = MAIN_BRANCH_STATES[event.type];
    if (!state) return;
    const { unit, revision } = event;
    const targetUrl = planLink(event.planId ?? undefined, this.links());
    const status: CommitStatus = { context: statusContext(unit), state: state.state, description: `${state.label}${event.message ? `: ${firstLine(event.message)}` : ''}`, ...(targetUrl ? { targetUrl } : {}) };
    if (event.type === 'planned' && /^no changes/.test(event.message)) Object.assign(status, { state: 'success', description: 'planned: no changes' });
    const purpose = event.planId && this.options.planPurpose ? this.options.planPurpose(event.planId) : Promise.resolve(undefined);
    void purpose.then(
      (p) => {
        if (p === 'drift') return;
        this.postStatus(revision, { ...status, description: secrets.maskText(status.description) });
      },
      (error: unknown) => this.options.log.warn({ err: error, unit }, 'forge status not posted: the plan could not be read'),
    );
  }

  /** Wait for deliveries in flight (shutdown). */
  drain(timeoutMs?: number): Promise<void> {
    return this.queue.drain(timeoutMs);
  }

  get pending(): number {
    return this.queue.pending;
  }

  private links(): CommentLinks {
    const uiBase = this.options.uiBase();
    return uiBase ? { uiBase: uiBase.replace(/\/+$/, '') } : {};
  }

  private postStatus(sha: string, status: CommitStatus): void {
    const key = `status ${sha} ${status.context}`;
    const value = JSON.stringify(status);
    if (this.sent.get(key) === value) return;
    this.queue.put(key, `the status ${status.context} of ${sha.slice(0, 12)}`, async () => {
      await this.options.client.postStatus(sha, status);
      this.sent.delete(key);
      this.sent.set(key, value);
      if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.keys().next().value!);
    });
  }

  private async upsertComment(ref: string, body: string): Promise<void> {
    const number = await this.mergeRequestOf(ref);
    if (number === null) {
      this.options.log.debug({ ref }, 'no open merge request for the previewed ref: no comment');
      return;
    }
    const client = this.options.client;
    let id = this.comments.get(number);
    if (id === undefined) {
      id = (await client.listComments(number)).find((c) => c.body.includes(COMMENT_MARKER))?.id;
      if (id !== undefined) this.comments.set(number, id);
    }
    if (id !== undefined) {
      try {
        await client.updateComment(number, id, body);
        return;
      } catch (error) {
        // Deleted by a person: a new one is written below.
        if (!(error instanceof ForgeError && error.status === 404)) throw error;
        this.comments.delete(number);
      }
    }
    this.comments.set(number, await client.createComment(number, body));
  }

  /** `refs/pull/N/head` and `refs/merge-requests/N/head` name theirs; a branch's is its open merge request. */
  private async mergeRequestOf(ref: string): Promise<number | null> {
    const named = /^refs\/(?:pull|merge-requests)\/(\d+)\/head$/.exec(ref);
    if (named) return Number(named[1]);
    const branch = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
    if (!branch) return null;
    // A merge request found is remembered; none found is asked again next time (it may have been opened since).
    const known = this.mergeRequests.get(ref);
    if (known !== undefined) return known;
    const found = await this.options.client.findMergeRequest(branch);
    if (found !== null) this.mergeRequests.set(ref, found);
    return found;
  }
}

/** History events of the watched branch as statuses of their commit; the rest post nothing. */
const MAIN_BRANCH_STATES: Partial<Record<HistoryEvent['type'], { state: CommitStatus['state']; label: string }>> = {
  planned: { state: 'pending', label: 'planned' },
  'awaiting-approval': { state: 'pending', label: 'awaits approval' },
  'apply-started': { state: 'pending', label: 'applying' },
  applied: { state: 'success', label: 'applied' },
  'apply-failed': { state: 'failure', label: 'apply failed' },
  'plan-failed': { state: 'failure', label: 'plan failed' },
  rejected: { state: 'failure', label: 'rejected' },
  interrupted: { state: 'failure', label: 'interrupted' },
};
