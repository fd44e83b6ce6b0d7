/**
 * Secret masking. Plumbline learns secret values from several places (sensitive
 * Terraform variables and outputs, vaulted Ansible variables, daemon-side secret
 * vars) and masks every occurrence of them in anything it logs, stores as JSON,
 * renders or returns over the API. Structural masking (by sensitive path) is done
 * by each provider; this registry is the catch-all that works on plain text.
 */
export const MASK = '(sensitive)';

/** Values shorter than this are too likely to collide with ordinary text. */
const MIN_SECRET_LENGTH = 4;
/** A line of a multi-line secret is masked on its own from this length (trimmed). */
const MIN_SECRET_LINE_LENGTH = 6;

export class SecretRegistry {
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;

  add(value: unknown): void {
    for (const s of leafStrings(value)) {
      if (s.length < MIN_SECRET_LENGTH || this.values.has(s)) continue;
      this.remember(s);
      // A key or a vaulted file shows up line by line too: in a diff, a log
      // line, a template rendered around it. Longest first, so the whole value
      // is masked as one where it appears whole.
      if (s.includes('\n')) {
        for (const line of s.split(/\r?\n/)) {
          const trimmed = line.trim();
          if (trimmed.length >= MIN_SECRET_LINE_LENGTH) this.remember(trimmed);
        }
      }
    }
  }

  private remember(s: string): void {
    if (this.values.has(s)) return;
    this.values.add(s);
    // A JSON-encoded form of a secret can appear inside serialized logs.
    const encoded = JSON.stringify(s).slice(1, -1);
    if (encoded !== s) this.values.add(encoded);
    this.pattern = undefined;
  }

  get size(): number {
    return this.values.size;
  }

  maskText(text: string): string {
    if (this.values.size === 0 || text.length === 0) return text;
    this.pattern ??= new RegExp(
      [...this.values]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, MASK);
  }

  /**
   * Deep copy of a JSON-like value with every known secret masked. Values under
   * `exemptKeys` are left as they are: identifiers Plumbline made itself (commit
   * ids, plan ids, unit names), in which a short secret could appear by chance.
   */
  maskDeep<T>(value: T, exemptKeys?: ReadonlySet<string>): T {
    if (this.values.size === 0) return value;
    return mapStrings(value, (s) => this.maskText(s), exemptKeys) as T;
  }
}

/** Fields holding identifiers Plumbline made: never rewritten by masking. */
export const RECORD_IDENTIFIERS: ReadonlySet<string> = new Set([
  'id',
  'name',
  'unit',
  'revision',
  'planId',
  'runId',
  'changeSet',
  'inputsHash',
  'lastAppliedRevision',
  'lastAttemptedRevision',
  'lastFetchedRevision',
  'lastReconciledRevision',
]);

/** The process-wide registry: logs, the store and the API all consult it. */
export const secrets = new SecretRegistry();

function* leafStrings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (typeof value === 'number' || typeof value === 'boolean') {
    // Numbers and booleans as secrets would mask half the document; skip them.
    return;
  } else if (Array.isArray(value)) for (const v of value) yield* leafStrings(v);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) yield* leafStrings(v);
}

function mapStrings(value: unknown, fn: (s: string) => string, exempt?: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn, exempt));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = exempt?.has(k) ? v : mapStrings(v, fn, exempt);
    return out;
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
