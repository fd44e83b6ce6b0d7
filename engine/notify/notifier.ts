import type { Logger } from '../log.ts';
import type { HistoryEvent } from '../model.ts';
import { secrets } from '../secrets.ts';

/** What a webhook can subscribe to. */
export const NOTIFICATION_EVENTS = ['awaiting-approval', 'applied', 'failed', 'drift-detected', 'remediated'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export interface WebhookTarget {
  url: string;
  events: readonly NotificationEvent[];
}

export interface Notification {
  event: NotificationEvent;
  unit: string | null;
  revision: string | null;
  planId: string | null;
  message: string;
  at: string;
}

export interface NotifierOptions {
  maxAttempts?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
}

/** History events that people want to hear about, and what they are called. */
const FROM_HISTORY: Partial<Record<HistoryEvent['type'], NotificationEvent>> = {
  'awaiting-approval': 'awaiting-approval',
  applied: 'applied',
  'apply-failed': 'failed',
  'plan-failed': 'failed',
  'drift-detected': 'drift-detected',
  remediated: 'remediated',
};

/**
 * Webhook delivery: a JSON POST per event (with a Slack-compatible `text`),
 * retried with exponential backoff on network errors, 429 and 5xx. Delivery runs
 * in the background, in order per target; it never blocks or fails the engine,
 * and every message is masked before it leaves.
 */
export class Notifier {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly options: Required<NotifierOptions>;

  constructor(
    private readonly targets: readonly WebhookTarget[],
    private readonly log: Logger,
    options: NotifierOptions = {},
  ) {
    this.options = { maxAttempts: 6, firstDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 10_000, ...options };
  }

  /** Translate a history event; events nobody subscribes to cost nothing. */
  fromHistory(event: HistoryEvent): void {
    const type = FROM_HISTORY[event.type];
    if (!type) return;
    this.notify({ event: type, unit: event.unit, revision: event.revision, planId: event.planId, message: event.message, at: event.at });
  }

  notify(notification: Notification): void {
    for (const target of this.targets) {
      if (!target.events.includes(notification.event)) continue;
      const previous = this.chains.get(target.url) ?? Promise.resolve();
      const next = previous.then(() => this.deliver(target, notification));
      this.chains.set(target.url, next);
    }
  }

  /** Wait for deliveries in flight (shutdown), at most `timeoutMs`. */
  async drain(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.chains.values()), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  private async deliver(target: WebhookTarget, notification: Notification): Promise<void> {
    const body = JSON.stringify(secrets.maskDeep({ ...notification, text: slackText(notification) }));
    const where = redactTarget(target.url);
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt += 1) {
      let retry: boolean;
      let why: string;
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'plumbline' },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          this.log.debug({ target: where, event: notification.event, attempt }, 'notification delivered');
          return;
        }
        retry = response.status === 429 || response.status >= 500;
        why = `HTTP ${response.status}`;
      } catch (error) {
        retry = true;
        why = secrets.maskText(error instanceof Error ? error.message : String(error));
      }
      if (!retry || attempt === this.options.maxAttempts) {
        this.log.warn({ target: where, event: notification.event, attempt, why }, 'notification not delivered');
        return;
      }
      const delay = Math.min(this.options.maxDelayMs, this.options.firstDelayMs * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
      this.log.info({ target: where, event: notification.event, attempt, why, delayMs: Math.round(delay) }, 'notification failed, retrying');
      await new Promise((r) => setTimeout(r, delay).unref());
    }
  }
}

function slackText(n: Notification): string {
  const subject = n.unit ? `*${n.unit}*` : 'Plumbline';
  const at = n.revision ? ` at ${n.revision.slice(0, 8)}` : '';
  const headline: Record<NotificationEvent, string> = {
    'awaiting-approval': `plan ${n.planId ?? ''} awaits approval${at}: plumbline approve ${n.planId ?? ''}`,
    applied: `applied${at}`,
    failed: `failed${at}`,
    'drift-detected': `drift detected${at}`,
    remediated: `drift remediated${at}`,
  };
  return `[plumbline] ${subject}: ${headline[n.event]}\n${n.message}`;
}

/** Webhook URLs often carry a token in their path or query: log the origin only. */
function redactTarget(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}
