import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { UnitStatus } from '../model.ts';
import { RECORD_IDENTIFIERS, secrets } from '../secrets.ts';
import { unitRow } from './pages/overview.ts';

/**
 * Live updates by server-sent events. While at least one page listens, the
 * units are read from the store every interval (what any member of a cluster
 * sees, whoever ran the change) and each unit whose record changed is sent
 * as an `unit` event: its phase and reason, and its overview row rendered
 * once for every listener. A page asks for what changed since it was
 * rendered, so nothing between the page and its subscription is missed.
 */

interface Listener {
  res: ServerResponse;
  /** Still allowed to listen (its session alive, its token not revoked). */
  allowed(): Promise<boolean>;
  checkedAt: number;
}

const KEEPALIVE_MS = 15_000;
const RECHECK_MS = 15_000;

export class UnitEvents {
  readonly #listeners = new Set<Listener>();
  readonly #seen = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #lastWrite = Date.now();

  constructor(
    private readonly load: () => Promise<UnitStatus[]>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Starts a stream for one page: first every unit changed since `since`, then the changes as they come. */
  async listen(res: ServerResponse, since: string | undefined, allowed: () => Promise<boolean>): Promise<void> {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    const listener: Listener = { res, allowed, checkedAt: Date.now() };
    this.#listeners.add(listener);
    res.on('close', () => this.#listeners.delete(listener));
    const units = await this.load();
    if (this.#seen.size === 0) for (const u of units) this.#seen.set(u.name, fingerprint(u));
    const after = since ? Date.parse(since) : NaN;
    for (const u of units) if (Number.isFinite(after) && Date.parse(u.updatedAt) >= after) write(res, unitEvent(u));
    this.#timer ??= setInterval(() => void this.tick(), this.intervalMs);
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const l of this.#listeners) l.res.end();
    this.#listeners.clear();
  }

  private async tick(): Promise<void> {
    if (this.#busy) return;
    if (this.#listeners.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#seen.clear();
      return;
    }
    this.#busy = true;
    try {
      await this.recheck();
      const changed: string[] = [];
      for (const u of await this.load()) {
        const print = fingerprint(u);
        if (this.#seen.get(u.name) === print) continue;
        this.#seen.set(u.name, print);
        changed.push(unitEvent(u));
      }
      const now = Date.now();
      if (changed.length === 0 && now - this.#lastWrite < KEEPALIVE_MS) return;
      this.#lastWrite = now;
      const text = changed.length > 0 ? changed.join('') : ': keepalive\n\n';
      for (const l of this.#listeners) write(l.res, text);
    } catch (error) {
      this.log.warn({ err: error }, 'live updates: reading the units failed');
    } finally {
      this.#busy = false;
    }
  }

  /** A listener whose session ended or whose token was revoked is cut off. */
  private async recheck(): Promise<void> {
    const now = Date.now();
    for (const l of this.#listeners) {
      if (now - l.checkedAt < RECHECK_MS) continue;
      l.checkedAt = now;
      if (!(await l.allowed())) {
        this.#listeners.delete(l);
        l.res.end();
      }
    }
  }
}

function fingerprint(u: UnitStatus): string {
  return JSON.stringify(u);
}

function unitEvent(unit: UnitStatus): string {
  const u = secrets.maskDeep(unit, RECORD_IDENTIFIERS);
  const data = JSON.stringify({ name: u.name, phase: u.phase, reason: u.reason, message: u.message, row: unitRow(u).text });
  return `event: unit\ndata: ${secrets.maskText(data)}\n\n`;
}

function write(res: ServerResponse, text: string): void {
  if (!res.writableEnded) res.write(text);
}
