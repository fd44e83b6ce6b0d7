/**
 * Just enough HCL reading to find where a configuration keeps its state: the
 * `backend "<type>" { ... }` and `cloud { ... }` blocks inside top-level
 * `terraform { ... }` blocks. Comments, strings (with `${...}` templates) and
 * heredocs are tokenized properly, so a commented-out backend or the word
 * "backend" inside a string is never taken for a real one.
 */

export interface StateBlock {
  /** `backend` with its label, or `cloud`. */
  kind: 'backend' | 'cloud';
  /** Backend type (`local`, `s3`...); empty for `cloud`. */
  type: string;
  /** Top-level arguments of the block whose value is one plain string literal. */
  strings: Record<string, string>;
}

type Token =
  | { t: 'ident'; v: string }
  | { t: 'string'; v: string; plain: boolean }
  | { t: '{' | '}' | '=' | 'nl' | 'other' };

export function findStateBlocks(source: string): StateBlock[] {
  const tokens = tokenize(source);
  const found: StateBlock[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.t === '{') depth++;
    else if (tok.t === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0 && tok.t === 'ident' && tok.v === 'terraform' && tokens[i + 1]?.t === '{') {
      i = readTerraformBlock(tokens, i + 2, found) - 1;
    }
  }
  return found;
}

/** Reads the body of a `terraform {` block starting after its brace; returns the index after its `}`. */
function readTerraformBlock(tokens: Token[], start: number, found: StateBlock[]): number {
  let depth = 1;
  let i = start;
  while (i < tokens.length && depth > 0) {
    const tok = tokens[i]!;
    if (tok.t === '{') depth++;
    else if (tok.t === '}') depth--;
    else if (depth === 1 && tok.t === 'ident' && (tok.v === 'backend' || tok.v === 'cloud')) {
      const label = tokens[i + 1];
      if (tok.v === 'backend' && label?.t === 'string' && tokens[i + 2]?.t === '{') {
        const block: StateBlock = { kind: 'backend', type: label.v, strings: {} };
        i = readArguments(tokens, i + 3, block);
        found.push(block);
        continue;
      }
      if (tok.v === 'cloud' && label?.t === '{') {
        const block: StateBlock = { kind: 'cloud', type: '', strings: {} };
        i = readArguments(tokens, i + 2, block);
        found.push(block);
        continue;
      }
    }
    i++;
  }
  return i;
}

/** Collects `name = "literal"` arguments of a block body; returns the index after its `}`. */
function readArguments(tokens: Token[], start: number, block: StateBlock): number {
  let depth = 1;
  let i = start;
  while (i < tokens.length && depth > 0) {
    const tok = tokens[i]!;
    if (tok.t === '{') depth++;
    else if (tok.t === '}') depth--;
    else if (depth === 1 && tok.t === 'ident' && tokens[i + 1]?.t === '=') {
      const value = tokens[i + 2];
      const end = tokens[i + 3];
      if (value?.t === 'string' && value.plain && (end === undefined || end.t === 'nl' || end.t === '}')) {
        block.strings[tok.v] = value.v;
      }
    }
    i++;
  }
  return i;
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      tokens.push({ t: 'nl' });
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end === -1 ? src.length : end + 2;
    } else if (c === '"') {
      const { value, plain, end } = readString(src, i + 1);
      tokens.push({ t: 'string', v: value, plain });
      i = end;
    } else if (c === '<' && src[i + 1] === '<' && /[-A-Za-z_]/.test(src[i + 2] ?? '')) {
      i = skipHeredoc(src, i + 2);
      tokens.push({ t: 'other' });
    } else if (c === '{' || c === '}' || c === '=') {
      // `==` and `=>` are operators, not assignments.
      if (c === '=' && (src[i + 1] === '=' || src[i + 1] === '>')) {
        tokens.push({ t: 'other' });
        i += 2;
      } else {
        tokens.push({ t: c });
        i++;
      }
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_-]/.test(src[j]!)) j++;
      tokens.push({ t: 'ident', v: src.slice(i, j) });
      i = j;
    } else {
      tokens.push({ t: 'other' });
      i++;
    }
  }
  return tokens;
}

/** Reads a quoted string from just after its opening quote, templates included. */
function readString(src: string, start: number): { value: string; plain: boolean; end: number } {
  let value = '';
  let plain = true;
  let i = start;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '"') return { value, plain, end: i + 1 };
    if (c === '\n') break; // unterminated: stop at the line end
    if (c === '\\') {
      const next = src[i + 1] ?? '';
      value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      i += 2;
    } else if ((c === '$' || c === '%') && src[i + 1] === '{') {
      plain = false;
      i = skipTemplate(src, i + 2);
    } else {
      value += c;
      i++;
    }
  }
  return { value, plain: false, end: i };
}

/** Skips a `${ ... }` template body (which may hold strings and braces). */
function skipTemplate(src: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < src.length && depth > 0) {
    const c = src[i]!;
    if (c === '"') i = readString(src, i + 1).end;
    else {
      if (c === '{') depth++;
      else if (c === '}') depth--;
      i++;
    }
  }
  return i;
}

/** Skips `<<EOF` / `<<-EOF` up to the line holding only the marker. */
function skipHeredoc(src: string, start: number): number {
  let i = start;
  if (src[i] === '-') i++;
  let j = i;
  while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
  const marker = src.slice(i, j);
  const bodyStart = src.indexOf('\n', j);
  if (marker === '' || bodyStart === -1) return j;
  let lineStart = bodyStart + 1;
  while (lineStart < src.length) {
    let lineEnd = src.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = src.length;
    if (src.slice(lineStart, lineEnd).trim() === marker) return lineEnd;
    lineStart = lineEnd + 1;
  }
  return src.length;
}
