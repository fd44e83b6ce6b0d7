/**
 * Unified diffs (`diff -u` style, 3 lines of context) of the before/after
 * texts Ansible modules report under `--diff`, so a plan reads the same way
 * as Ansible's own diff output.
 */

const CONTEXT = 3;
/** Beyond this many lines on a side, an exact diff costs too much: show a summary. */
const MAX_LINES = 5_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

export function unifiedDiff(before: string, after: string, headers: { before: string; after: string }): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const out = [`--- ${headers.before}`, `+++ ${headers.after}`];
  if (a.length > MAX_LINES || b.length > MAX_LINES) {
    out.push(`@@ -1,${a.length} +1,${b.length} @@`, `(content differs: ${a.length} lines before, ${b.length} lines after; too large to show line by line)`);
    return `${out.join('\n')}\n`;
  }
  const ops = diffLines(a, b);
  for (const hunk of hunks(ops)) out.push(...hunk);
  if (!before.endsWith('\n') && before !== '') out.push('\\ No newline at end of file (before)');
  if (!after.endsWith('\n') && after !== '') out.push('\\ No newline at end of file (after)');
  return `${out.join('\n')}\n`;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Longest common subsequence over lines, trimmed of the common head and tail first. */
function diffLines(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  // lcs[i][j]: length of the LCS of midA[i..] and midB[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i]![j] = midA[i] === midB[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Op[] = a.slice(0, start).map((line) => ({ kind: ' ', line }));
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (midA[i] === midB[j]) {
      ops.push({ kind: ' ', line: midA[i]! });
      i += 1;
      j += 1;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      ops.push({ kind: '-', line: midA[i]! });
      i += 1;
    } else {
      ops.push({ kind: '+', line: midB[j]! });
      j += 1;
    }
  }
  for (; i < n; i += 1) ops.push({ kind: '-', line: midA[i]! });
  for (; j < m; j += 1) ops.push({ kind: '+', line: midB[j]! });
  for (const line of a.slice(endA)) ops.push({ kind: ' ', line });
  return ops;
}

function hunks(ops: Op[]): string[][] {
  const changed = ops.map((op, index) => (op.kind === ' ' ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return [];
  // Group changes whose context windows touch.
  const groups: Array<[number, number]> = [];
  for (const index of changed) {
    const last = groups[groups.length - 1];
    if (last && index - last[1] <= 2 * CONTEXT) last[1] = index;
    else groups.push([index, index]);
  }
  const out: string[][] = [];
  for (const [first, last] of groups) {
    const from = Math.max(0, first - CONTEXT);
    const to = Math.min(ops.length - 1, last + CONTEXT);
    let lineA = 1;
    let lineB = 1;
    for (let k = 0; k < from; k += 1) {
      if (ops[k]!.kind !== '+') lineA += 1;
      if (ops[k]!.kind !== '-') lineB += 1;
    }
    const body: string[] = [];
    let countA = 0;
    let countB = 0;
    for (let k = from; k <= to; k += 1) {
      const op = ops[k]!;
      body.push(`${op.kind}${op.line}`);
      if (op.kind !== '+') countA += 1;
      if (op.kind !== '-') countB += 1;
    }
    out.push([`@@ -${range(lineA, countA)} +${range(lineB, countB)} @@`, ...body]);
  }
  return out;
}

function range(start: number, count: number): string {
  const first = count === 0 ? start - 1 : start;
  return count === 1 ? `${first}` : `${first},${count}`;
}
