/**
 * An HCL tokenizer for the scanner (hcl-scan.ts): identifiers, punctuation,
 * newlines, and strings whose `${...}` / `%{...}` templates are tokenized in
 * turn, for quoted strings and heredocs alike. Comments are dropped. Every
 * token keeps its offset, for line numbers.
 */

/** A piece of a string template: literal text, or the tokens of a `${...}` / `%{...}`. */
export type TemplatePart = { lit: string } | { expr: Token[] };

/** `pos` is the offset in the source (for line numbers). */
export type Token =
  | { t: 'ident'; v: string; pos: number }
  /** A quoted string or a heredoc; `v` is its literal text, `plain` when it has no template. */
  | { t: 'string'; v: string; plain: boolean; parts: TemplatePart[]; pos: number }
  | { t: '{' | '}' | '(' | ')' | '[' | ']' | ',' | '.' | '=' | 'nl' | 'other'; pos: number };

const PUNCTUATION = new Set(['{', '}', '(', ')', '[', ']', ',', '.', '=']);

/** Tokens of an HCL file; the tokens of templates are inside their string tokens. */
export function tokenize(src: string): Token[] {
  return new Tokenizer(src).tokens(0, false).tokens;
}

/** Tokens of the parts of a template given as text (a string value of a `.tf.json` file). */
export function tokenizeTemplate(text: string): TemplatePart[] {
  return new Tokenizer(text).template(0, text.length, () => false).parts;
}

class Tokenizer {
  constructor(private readonly src: string) {}

  /**
   * Tokens from `start`; inside a template (`nested`) up to the `}` that closes
   * it, whose index is returned as `end` (the index after it).
   */
  tokens(start: number, nested: boolean): { tokens: Token[]; end: number } {
    const src = this.src;
    const tokens: Token[] = [];
    let depth = 0;
    let i = start;
    while (i < src.length) {
      const c = src[i]!;
      if (c === '\n') {
        tokens.push({ t: 'nl', pos: i });
        i++;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        i++;
      } else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
        while (i < src.length && src[i] !== '\n') i++;
      } else if (c === '/' && src[i + 1] === '*') {
        const end = src.indexOf('*/', i + 2);
        i = end === -1 ? src.length : end + 2;
      } else if (c === '"') {
        const { token, end } = this.quoted(i);
        tokens.push(token);
        i = end;
      } else if (c === '<' && src[i + 1] === '<' && /[-A-Za-z_]/.test(src[i + 2] ?? '')) {
        const { token, end } = this.heredoc(i);
        tokens.push(token);
        i = end;
      } else if (c === '=' && (src[i + 1] === '=' || src[i + 1] === '>')) {
        // `==` and `=>` are operators, not assignments.
        tokens.push({ t: 'other', pos: i });
        i += 2;
      } else if (PUNCTUATION.has(c)) {
        if (nested && c === '}' && depth === 0) return { tokens, end: i + 1 };
        if (c === '{') depth++;
        if (c === '}') depth--;
        tokens.push({ t: c as '{', pos: i });
        i++;
      } else if (/[A-Za-z_]/.test(c)) {
        let j = i + 1;
        while (j < src.length && /[A-Za-z0-9_-]/.test(src[j]!)) j++;
        tokens.push({ t: 'ident', v: src.slice(i, j), pos: i });
        i = j;
      } else {
        tokens.push({ t: 'other', pos: i });
        i++;
      }
    }
    return { tokens, end: src.length };
  }

  /** A quoted string from its opening quote; an unterminated one stops at the line end. */
  private quoted(start: number): { token: StringToken; end: number } {
    const { parts, end } = this.template(start + 1, this.src.length, (i) => this.src[i] === '"' || this.src[i] === '\n', true);
    const closed = this.src[end] === '"';
    return { token: stringToken(parts, start, closed), end: closed ? end + 1 : end };
  }

  /** `<<EOF` / `<<-EOF` up to the line holding only the marker; its body is a template. */
  private heredoc(start: number): { token: StringToken; end: number } {
    const src = this.src;
    let i = start + 2;
    if (src[i] === '-') i++;
    let j = i;
    while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
    const marker = src.slice(i, j);
    const bodyStart = src.indexOf('\n', j);
    if (marker === '' || bodyStart === -1) return { token: stringToken([], start, false), end: j };
    let bodyEnd = src.length;
    let end = src.length;
    for (let lineStart = bodyStart + 1; lineStart < src.length; ) {
      let lineEnd = src.indexOf('\n', lineStart);
      if (lineEnd === -1) lineEnd = src.length;
      if (src.slice(lineStart, lineEnd).trim() === marker) {
        bodyEnd = lineStart;
        end = lineEnd;
        break;
      }
      lineStart = lineEnd + 1;
    }
    const { parts } = this.template(bodyStart + 1, bodyEnd, () => false, false);
    // A heredoc is never taken for a plain literal argument.
    return { token: { ...stringToken(parts, start, true), plain: false }, end };
  }

  /**
   * Template text from `start` until `stop(i)` or `limit`: literal runs and the
   * tokens of each `${...}` / `%{...}`. `$${` and `%%{` are escapes for a
   * literal `${` / `%{`; backslash escapes apply in quoted strings only.
   */
  template(start: number, limit: number, stop: (i: number) => boolean, escapes = false): { parts: TemplatePart[]; end: number } {
    const src = this.src;
    const parts: TemplatePart[] = [];
    let literal = '';
    let i = start;
    while (i < limit && !stop(i)) {
      const c = src[i]!;
      if (escapes && c === '\\') {
        const next = src[i + 1] ?? '';
        literal += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        i += 2;
      } else if ((c === '$' || c === '%') && src[i + 1] === c && src[i + 2] === '{') {
        literal += `${c}{`;
        i += 3;
      } else if ((c === '$' || c === '%') && src[i + 1] === '{') {
        if (literal) parts.push({ lit: literal });
        literal = '';
        const inner = this.tokens(i + 2, true);
        parts.push({ expr: inner.tokens });
        i = inner.end;
      } else {
        literal += c;
        i++;
      }
    }
    if (literal) parts.push({ lit: literal });
    return { parts, end: Math.min(i, limit) };
  }
}

type StringToken = Extract<Token, { t: 'string' }>;

function stringToken(parts: TemplatePart[], pos: number, closed: boolean): StringToken {
  const plain = closed && parts.every((p) => 'lit' in p);
  const v = parts.map((p) => ('lit' in p ? p.lit : '')).join('');
  return { t: 'string', v, plain, parts, pos };
}

/** Offset → 1-based line number, by binary search over the line starts. */
export function lineIndex(source: string): (pos: number) => number {
  const starts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
  return (pos) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
