import type { State } from 'js-yaml';

/**
 * Rebuilds where each YAML node starts from js-yaml's `listener` events, so
 * that a problem found later (by the schema, by a file check) can point at the
 * line to fix. js-yaml reports 'open' when it starts composing a node and
 * 'close' when it is done; the loader state then holds the node's value and
 * kind. What it does not say is which child of a mapping is a key and which a
 * value, nor where a node's content really starts ('open' fires before the
 * leading whitespace and comments are skipped): both are recovered here from
 * the input text.
 */

/** A composed node as the listener saw it (offsets index `state.input`). */
interface Frame {
  open: number;
  end: number;
  kind: string | null;
  result: unknown;
  children: Frame[];
}

export interface MappingEntry {
  /** Offset of the key's first character. */
  key: number;
  value: PositionNode | null;
}

export interface PositionNode {
  /** Offset of the node's first character (its tag or anchor if any). */
  start: number;
  entries?: Map<string, MappingEntry>;
  items?: (PositionNode | null)[];
}

export class PositionRecorder {
  private readonly stack: Frame[] = [];
  readonly roots: Frame[] = [];
  input = '';

  /** Pass as js-yaml's `listener` option. */
  readonly listener = (event: 'open' | 'close', state: State): void => {
    if (event === 'open') {
      this.input = state.input;
      this.stack.push({ open: state.position, end: state.position, kind: null, result: null, children: [] });
      return;
    }
    const frame = this.stack.pop();
    if (!frame) return;
    frame.end = state.position;
    frame.kind = state.kind;
    frame.result = state.result;
    const parent = this.stack[this.stack.length - 1];
    (parent ? parent.children : this.roots).push(frame);
  };

  /** Offset where the n-th document's root node starts. */
  documentStart(n: number): number | undefined {
    const root = this.roots[n];
    return root ? contentStart(this.input, root.open) : undefined;
  }

  /** The position tree of the first document, or null if it holds nothing. */
  tree(): PositionNode | null {
    const root = this.roots[0];
    return root && root.kind !== null ? buildNode(this.input, root) : null;
  }
}

function buildNode(input: string, outer: Frame): PositionNode {
  const node: PositionNode = { start: contentStart(input, outer.open) };
  const frame = unwrap(outer);
  if (frame.kind === 'mapping') node.entries = buildEntries(input, frame.children);
  else if (frame.kind === 'sequence' && Array.isArray(frame.result)) {
    node.items = buildItems(input, frame.children, frame.result);
  }
  return node;
}

/**
 * Where block collections are allowed (document root, sequence item), js-yaml
 * first tries to read a block mapping key; when the "key" turns out to be a
 * whole flow collection with no `:` after it, that inner node becomes the
 * value. The outer frame then wraps one child holding the very same object.
 */
function unwrap(frame: Frame): Frame {
  let current = frame;
  for (;;) {
    const only = current.children.length === 1 ? current.children[0] : undefined;
    const isObject = typeof current.result === 'object' && current.result !== null;
    if (!only || !isObject || only.result !== current.result) return current;
    current = only;
  }
}

/**
 * Children of a mapping arrive as key, value, key, value... except that a flow
 * mapping key may have no value (`{a, b: 1}`). A child is the pending key's
 * value exactly when a `:` indicator sits between the two.
 */
function buildEntries(input: string, children: Frame[]): Map<string, MappingEntry> {
  const entries = new Map<string, MappingEntry>();
  let pending: Frame | null = null;
  const store = (key: Frame, value: Frame | null): void => {
    entries.set(String(key.result), {
      key: contentStart(input, key.open),
      value: value ? buildNode(input, value) : null,
    });
  };
  for (const child of children) {
    if (pending && hasValueIndicator(input, pending.end, child.open)) {
      store(pending, child);
      pending = null;
      continue;
    }
    if (pending) store(pending, null);
    // A key attempt that read nothing ends a block mapping; it is not a key.
    pending = child.kind === null && child.end === child.open ? null : child;
  }
  if (pending) store(pending, null);
  return entries;
}

/**
 * Items usually map one to one onto children. A block item left empty (`-`
 * then a less indented line) is stored as null without composing a node, so
 * align on the values themselves; give up (the sequence's own position is
 * used) on shapes that do not align, such as single-pair flow mappings.
 */
function buildItems(input: string, children: Frame[], result: unknown[]): (PositionNode | null)[] {
  if (children.length === result.length) return children.map((c) => buildNode(input, c));
  const items: (PositionNode | null)[] = [];
  let j = 0;
  for (const value of result) {
    const child = children[j];
    if (child && Object.is(child.result, value)) {
      items.push(buildNode(input, child));
      j += 1;
    } else if (value === null) {
      items.push(null);
    } else {
      return [];
    }
  }
  return j === children.length ? items : [];
}

function hasValueIndicator(input: string, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) {
    const ch = input[i];
    if (ch === ':') return true;
    if (ch === '#') while (i < to && input[i] !== '\n') i += 1;
  }
  return false;
}

/** Skip the whitespace, line breaks and comments js-yaml had not consumed yet. */
function contentStart(input: string, from: number): number {
  let i = from;
  while (i < input.length) {
    const ch = input[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i += 1;
    else if (ch === '#') while (i < input.length && input[i] !== '\n') i += 1;
    else break;
  }
  return i;
}
