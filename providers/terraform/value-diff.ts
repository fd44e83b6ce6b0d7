import { isDeepStrictEqual } from 'node:util';
import { MASK } from '../../engine/provider-kit.ts';
import { hasMark, isRecord } from './mask.ts';

/**
 * The difference between two values of a plan, as lines with paths: only what
 * changed, each at its own path (`tags.Name`, `ingress[0].from_port`), the way
 * terraform's nested diff reads. Empty collections are values (`[]`, `{}`),
 * unknown values are flags (never a string standing in for one), and a
 * sensitive value is masked wherever its mark sits.
 */

export interface AttributeChange {
  /** `tags.Name`, `ingress[0].from_port`, `input["odd key"]`. */
  path: string;
  /** Absent when there was nothing here (the attribute is added, or was null). */
  before?: unknown;
  /** Absent when nothing will be here (removed, null) or when it is not known yet. */
  after?: unknown;
  /** The new value is known only after apply. */
  unknown?: true;
  /** Either side is sensitive: values are masked. */
  sensitive?: true;
  /** A change of this attribute is why the object is replaced. */
  forcesReplacement?: true;
}

/**
 * One side of a value with Terraform's marks, which mirror the value's shape
 * (`true` at the sensitive or unknown places, or one boolean for the whole).
 */
export interface Marks {
  /** `before_sensitive`. */
  before: unknown;
  /** `after_sensitive`. */
  after: unknown;
  /** `after_unknown`. */
  unknown: unknown;
}

/**
 * Appends to `out` what changes from `before` to `after` below `path`.
 * `undefined` stands for a side that does not exist (a create's before).
 * Linear in the size of the values, except for reordered lists (see diffList).
 */
export function diffValues(path: string, before: unknown, after: unknown, marks: Marks, out: AttributeChange[]): void {
  if (marks.unknown === true) {
    diffToUnknown(path, before, marks, out);
    return;
  }
  if (marks.before === true || marks.after === true) {
    if (isAbsent(before) && isAbsent(after)) return;
    if (marks.before === marks.after && isDeepStrictEqual(before, after)) return;
    out.push({ path, ...(isAbsent(before) ? {} : { before: MASK }), ...(isAbsent(after) ? {} : { after: MASK }), sensitive: true });
    return;
  }
  const kind = kindOf(before);
  if (kind === kindOf(after)) {
    if (kind === 'object') return diffObjects(path, before as Record<string, unknown>, after as Record<string, unknown>, marks, out);
    if (kind === 'list') return diffList(path, before as unknown[], after as unknown[], marks, out);
    if (kind === 'absent' || isDeepStrictEqual(before, after)) return;
    out.push({ path, before, after });
    return;
  }
  // A different kind of value (null to a list, a string to an object): what
  // goes, then what comes, each leaf at its path.
  listSide(path, before, marks.before, undefined, 'before', out);
  listSide(path, after, marks.after, marks.unknown, 'after', out);
}

function diffToUnknown(path: string, before: unknown, marks: Marks, out: AttributeChange[]): void {
  const sensitive = hasMark(marks.before) || hasMark(marks.after);
  if (marks.before === true || !isContainer(before) || isEmptyContainer(before)) {
    const shown = isAbsent(before) ? {} : { before: marks.before === true ? MASK : before };
    out.push({ path, ...shown, unknown: true, ...(sensitive ? { sensitive: true as const } : {}) });
    return;
  }
  // What the object held goes; what replaces it is not known yet.
  listSide(path, before, marks.before, undefined, 'before', out);
  out.push({ path, unknown: true, ...(hasMark(marks.after) ? { sensitive: true as const } : {}) });
}

function diffObjects(path: string, before: Record<string, unknown>, after: Record<string, unknown>, marks: Marks, out: AttributeChange[]): void {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  // Unknown attributes may be missing from `after` altogether.
  if (isRecord(marks.unknown)) for (const key of Object.keys(marks.unknown)) keys.add(key);
  for (const key of [...keys].sort()) {
    diffValues(childPath(path, key), before[key], after[key], childMarks(marks, key), out);
  }
}

/** Above this many cells the middle of two lists is compared position by position. */
const MAX_LCS_CELLS = 250_000;

/**
 * Lists are matched element by element on equal values (a longest common
 * subsequence after trimming the common ends), so an insertion shows as one
 * `+` line, not as every later element changing. Between two matched elements,
 * removed and added elements are paired in order and diffed in depth.
 * Removed elements are named by their index before, the others by their index after.
 */
function diffList(path: string, before: unknown[], after: unknown[], marks: Marks, out: AttributeChange[]): void {
  const beforeKey = (i: number): string => elementKey(before[i], child(marks.before, i), undefined, `b${i}`);
  const afterKey = (j: number): string => elementKey(after[j], child(marks.after, j), child(marks.unknown, j), `a${j}`);
  let start = 0;
  while (start < before.length && start < after.length && beforeKey(start) === afterKey(start)) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && beforeKey(endB - 1) === afterKey(endA - 1)) {
    endB--;
    endA--;
  }
  const matches = matchMiddle(start, endB, start, endA, beforeKey, afterKey);
  let i = start;
  let j = start;
  for (const [mi, mj] of [...matches, [endB, endA] as const]) {
    const removed = range(i, mi);
    const added = range(j, mj);
    const paired = Math.min(removed.length, added.length);
    for (let k = 0; k < paired; k++) {
      const [bi, aj] = [removed[k]!, added[k]!];
      diffValues(childPath(path, aj), before[bi], after[aj], { before: child(marks.before, bi), after: child(marks.after, aj), unknown: child(marks.unknown, aj) }, out);
    }
    for (const bi of removed.slice(paired)) listSide(childPath(path, bi), before[bi], child(marks.before, bi), undefined, 'before', out);
    for (const aj of added.slice(paired)) listSide(childPath(path, aj), after[aj], child(marks.after, aj), child(marks.unknown, aj), 'after', out);
    i = mi + 1;
    j = mj + 1;
  }
}

/** Index pairs of equal elements in before[b0..b1) and after[a0..a1), in order. */
function matchMiddle(b0: number, b1: number, a0: number, a1: number, beforeKey: (i: number) => string, afterKey: (j: number) => string): Array<readonly [number, number]> {
  const n = b1 - b0;
  const m = a1 - a0;
  if (n === 0 || m === 0 || n * m > MAX_LCS_CELLS) return [];
  const keysB = Array.from({ length: n }, (_, k) => beforeKey(b0 + k));
  const keysA = Array.from({ length: m }, (_, k) => afterKey(a0 + k));
  // lengths[x][y]: LCS of keysB[x..] and keysA[y..].
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let x = n - 1; x >= 0; x--) {
    for (let y = m - 1; y >= 0; y--) {
      lengths[x * width + y] =
        keysB[x] === keysA[y] ? lengths[(x + 1) * width + y + 1]! + 1 : Math.max(lengths[(x + 1) * width + y]!, lengths[x * width + y + 1]!);
    }
  }
  const pairs: Array<readonly [number, number]> = [];
  let x = 0;
  let y = 0;
  while (x < n && y < m) {
    if (keysB[x] === keysA[y]) {
      pairs.push([b0 + x, a0 + y]);
      x++;
      y++;
    } else if (lengths[(x + 1) * width + y]! >= lengths[x * width + y + 1]!) x++;
    else y++;
  }
  return pairs;
}

/** Equal keys mean equal elements; an unknown element equals nothing. */
function elementKey(value: unknown, sensitive: unknown, unknown: unknown, unique: string): string {
  if (hasMark(unknown)) return `unknown:${unique}`;
  const text = JSON.stringify(value) ?? 'null';
  return hasMark(sensitive) ? `${text}#${JSON.stringify(sensitive)}` : text;
}

/**
 * Every leaf of one side of a value, for something that appears or goes as a
 * whole: a created or destroyed object, an added or removed list element.
 */
export function listSide(path: string, value: unknown, sensitive: unknown, unknown: unknown, side: 'before' | 'after', out: AttributeChange[]): void {
  if (side === 'after' && unknown === true) {
    out.push({ path, unknown: true, ...(hasMark(sensitive) ? { sensitive: true as const } : {}) });
    return;
  }
  if (isAbsent(value)) return;
  if (sensitive === true) {
    out.push({ path, [side]: MASK, sensitive: true });
    return;
  }
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((item, i) => listSide(childPath(path, i), item, child(sensitive, i), child(unknown, i), side, out));
    return;
  }
  if (isRecord(value)) {
    const keys = new Set(Object.keys(value));
    if (side === 'after' && isRecord(unknown)) for (const key of Object.keys(unknown)) keys.add(key);
    if (keys.size > 0) {
      for (const key of [...keys].sort()) listSide(childPath(path, key), value[key], child(sensitive, key), child(unknown, key), side, out);
      return;
    }
  }
  out.push({ path, [side]: value });
}

type Kind = 'absent' | 'scalar' | 'list' | 'object';

function kindOf(value: unknown): Kind {
  if (value === undefined || value === null) return 'absent';
  if (Array.isArray(value)) return 'list';
  return isRecord(value) ? 'object' : 'scalar';
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function isContainer(value: unknown): value is unknown[] | Record<string, unknown> {
  return Array.isArray(value) || isRecord(value);
}

function isEmptyContainer(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : isRecord(value) && Object.keys(value).length === 0;
}

function child(value: unknown, key: string | number): unknown {
  if (typeof key === 'number') return Array.isArray(value) ? value[key] : undefined;
  return isRecord(value) ? value[key] : undefined;
}

function childMarks(marks: Marks, key: string): Marks {
  return { before: child(marks.before, key), after: child(marks.after, key), unknown: child(marks.unknown, key) };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `ingress` + 0 → `ingress[0]`; `tags` + `Name` → `tags.Name`; odd map keys quoted. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}
