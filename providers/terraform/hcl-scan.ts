/**
 * Just enough HCL reading to answer three questions without running terraform:
 * where a configuration keeps its state (the `backend "<type>" { ... }` and
 * `cloud { ... }` blocks inside top-level `terraform { ... }` blocks), which
 * input variables it declares (`variable` blocks), and what else it reads
 * (`module` sources, `file()`-like calls). Comments, strings, `${...}`
 * templates and heredocs are tokenized properly, so a commented-out block or a
 * word inside a string is never taken for a real one, while a call inside a
 * template (`"${file("x")}"`) is still found.
 */

import { lineIndex, tokenize, tokenizeTemplate, type Token } from './hcl-tokens.ts';

export interface StateBlock {
  /** `backend` with its label, or `cloud`. */
  kind: 'backend' | 'cloud';
  /** Backend type (`local`, `s3`...); empty for `cloud`. */
  type: string;
  /** Top-level arguments of the block whose value is one plain string literal. */
  strings: Record<string, string>;
}

export function findStateBlocks(source: string): StateBlock[] {
  const tokens = tokenize(source);
  const found: StateBlock[] = [];
  atTopLevel(tokens, 'terraform', (i) => (tokens[i + 1]?.t === '{' ? readTerraformBlock(tokens, i + 2, found) : undefined));
  return found;
}

/**
 * Calls `visit` at each `keyword` identifier outside any block; `visit`
 * returns the index after the block it read, or undefined when it read none.
 */
function atTopLevel(tokens: readonly Token[], keyword: string, visit: (i: number) => number | undefined): void {
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.t === '{') depth++;
    else if (tok.t === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0 && tok.t === 'ident' && tok.v === keyword) {
      const next = visit(i);
      if (next !== undefined) i = next - 1;
    }
  }
}

/** Reads the body of a `terraform {` block starting after its brace; returns the index after its `}`. */
function readTerraformBlock(tokens: readonly Token[], start: number, found: StateBlock[]): number {
  let depth = 1;
  let i = start;
  while (i < tokens.length && depth > 0) {
    const tok = tokens[i]!;
    if (tok.t === '{') depth++;
    else if (tok.t === '}') depth--;
    else if (depth === 1 && tok.t === 'ident' && (tok.v === 'backend' || tok.v === 'cloud')) {
      const label = tokens[i + 1];
      if (tok.v === 'backend' && label?.t === 'string' && tokens[i + 2]?.t === '{') {
        const body = readArguments(tokens, i + 3);
        found.push({ kind: 'backend', type: label.v, strings: body.strings });
        i = body.end;
        continue;
      }
      if (tok.v === 'cloud' && label?.t === '{') {
        const body = readArguments(tokens, i + 2);
        found.push({ kind: 'cloud', type: '', strings: body.strings });
        i = body.end;
        continue;
      }
    }
    i++;
  }
  return i;
}

interface BlockArguments {
  /** Top-level arguments whose value is one plain string literal. */
  strings: Record<string, string>;
  /** Top-level arguments with any other value (a template, a reference, a call). */
  expressions: Set<string>;
  /** The index after the block's `}`. */
  end: number;
}

/** The top-level arguments of a block body starting after its `{`. */
function readArguments(tokens: readonly Token[], start: number): BlockArguments {
  const strings: Record<string, string> = {};
  const expressions = new Set<string>();
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
        strings[tok.v] = value.v;
      } else {
        expressions.add(tok.v);
      }
    }
    i++;
  }
  return { strings, expressions, end: i };
}

/** A `module "<name>" { source = ... }` block of a configuration file. */
export interface ModuleBlock {
  name: string;
  /** The `source` literal; undefined when it is missing or not a plain string. */
  source: string | undefined;
  /** 1-based line of the `module` keyword. */
  line: number;
}

export function findModuleCalls(source: string): ModuleBlock[] {
  const tokens = tokenize(source);
  return labeledBlocks(source, tokens, 'module').map((block) => ({
    name: block.name,
    source: readArguments(tokens, block.body).strings.source,
    line: block.line,
  }));
}

/** A top-level `variable "<name>" { ... }` block: an input the configuration declares. */
export interface VariableBlock {
  name: string;
  /** 1-based line of the `variable` keyword. */
  line: number;
}

export function findVariables(source: string): VariableBlock[] {
  return labeledBlocks(source, tokenize(source), 'variable').map(({ name, line }) => ({ name, line }));
}

/**
 * The top-level `<keyword> "<label>" {` blocks: their label, the line of the
 * keyword and the index of the first token of their body. HCL takes a bare
 * identifier as a label too (`module vpc {`).
 */
function labeledBlocks(source: string, tokens: readonly Token[], keyword: string): Array<{ name: string; line: number; body: number }> {
  const lines = lineIndex(source);
  const found: Array<{ name: string; line: number; body: number }> = [];
  atTopLevel(tokens, keyword, (i) => {
    const label = tokens[i + 1];
    if ((label?.t !== 'string' && label?.t !== 'ident') || tokens[i + 2]?.t !== '{') return undefined;
    found.push({ name: label.v, line: lines(tokens[i]!.pos), body: i + 3 });
    return undefined;
  });
  return found;
}

/** Functions that read a file (or, `fileset`, a folder) named by their first argument. */
export const FILE_FUNCTIONS: ReadonlySet<string> = new Set([
  'file',
  'filebase64',
  'filebase64sha256',
  'filebase64sha512',
  'fileexists',
  'filemd5',
  'fileset',
  'filesha1',
  'filesha256',
  'filesha512',
  'templatefile',
]);

/** The first argument of a file function, as far as it can be read without evaluating anything. */
export type FileArgument =
  /** `"${path.module}/templates/a.tpl"` (or `path.root`): relative to that folder. */
  | { kind: 'relative'; base: 'module' | 'root'; path: string }
  /** `"scripts/a.sh"`: relative to the folder terraform runs in. */
  | { kind: 'literal'; path: string }
  /** Anything else (`var.script`, `"${path.cwd}/x"`), as written. */
  | { kind: 'expression'; text: string };

export interface FileCall {
  fn: string;
  argument: FileArgument;
  /** 1-based line of the call in the text it was found in. */
  line: number;
}

/** The file-reading calls of an HCL file, templates and heredocs included. */
export function findFileCalls(source: string): FileCall[] {
  const found: FileCall[] = [];
  walkCalls(source, tokenize(source), lineIndex(source), found);
  return found;
}

/** The file-reading calls of one template (a string value of a `.tf.json` file). */
export function findTemplateFileCalls(template: string): FileCall[] {
  const found: FileCall[] = [];
  const lines = lineIndex(template);
  for (const part of tokenizeTemplate(template)) if ('expr' in part) walkCalls(template, part.expr, lines, found);
  return found;
}

function walkCalls(source: string, tokens: readonly Token[], lines: (pos: number) => number, found: FileCall[]): void {
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.t === 'string') {
      for (const part of tok.parts) if ('expr' in part) walkCalls(source, part.expr, lines, found);
    } else if (tok.t === 'ident' && FILE_FUNCTIONS.has(tok.v) && tokens[i + 1]?.t === '(') {
      const argument = firstArgument(tokens, i + 2);
      found.push({ fn: tok.v, argument: fileArgument(source, argument.tokens, argument.endPos), line: lines(tok.pos) });
    }
  }
}

/** The tokens of a call's first argument, up to the `,` or `)` at its own level. */
function firstArgument(tokens: readonly Token[], start: number): { tokens: Token[]; endPos: number } {
  let depth = 0;
  let i = start;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!.t;
    if (depth === 0 && (t === ',' || t === ')')) break;
    if (t === '(' || t === '[' || t === '{') depth++;
    if (t === ')' || t === ']' || t === '}') depth--;
  }
  const endPos = tokens[i]?.pos ?? tokens.at(-1)?.pos ?? 0;
  return { tokens: tokens.slice(start, i).filter((t) => t.t !== 'nl'), endPos };
}

function fileArgument(source: string, tokens: readonly Token[], endPos: number): FileArgument {
  const only = tokens.length === 1 ? tokens[0] : undefined;
  if (only?.t === 'string') {
    if (only.plain) return { kind: 'literal', path: only.v };
    const [head, tail, ...rest] = only.parts;
    const base = head && 'expr' in head ? pathReference(head.expr) : undefined;
    if (base && tail && 'lit' in tail && tail.lit.startsWith('/') && rest.length === 0) {
      return { kind: 'relative', base, path: tail.lit.slice(1) };
    }
  }
  const text = tokens.length > 0 ? source.slice(tokens[0]!.pos, endPos).trim() : '';
  return { kind: 'expression', text };
}

/** `path.module` or `path.root` alone in a template interpolation. */
function pathReference(tokens: readonly Token[]): 'module' | 'root' | undefined {
  const real = tokens.filter((t) => t.t !== 'nl');
  if (real.length !== 3) return undefined;
  const [a, dot, b] = real;
  if (a?.t !== 'ident' || a.v !== 'path' || dot?.t !== '.' || b?.t !== 'ident') return undefined;
  return b.v === 'module' || b.v === 'root' ? b.v : undefined;
}

/**
 * What `terraform init` reads from one configuration file: the top-level
 * `terraform` blocks (required_providers, backend, cloud, required_version),
 * each module call's source and version, the local names of `provider`
 * blocks, and the provider each resource type implies (`aws_instance` ->
 * `aws`). Anything else in the file may change without a new init.
 */
export interface InitBlocks {
  terraform: string[];
  modules: Array<{ name: string; source: string; version: string }>;
  providers: string[];
  impliedProviders: string[];
}

const RESOURCE_KEYWORDS = ['resource', 'data', 'ephemeral'];

export function findInitBlocks(source: string): InitBlocks {
  const tokens = tokenize(source);
  const terraform: string[] = [];
  atTopLevel(tokens, 'terraform', (i) => {
    if (tokens[i + 1]?.t !== '{') return undefined;
    const end = readArguments(tokens, i + 2).end;
    terraform.push(tokenText(tokens.slice(i, end)));
    return end;
  });
  const modules = labeledBlocks(source, tokens, 'module').map((block) => {
    const args = readArguments(tokens, block.body);
    // A computed source or version is kept as such: its text is not known here.
    const value = (name: string) => args.strings[name] ?? (args.expressions.has(name) ? '<expression>' : '');
    return { name: block.name, source: value('source'), version: value('version') };
  });
  const providers = labeledBlocks(source, tokens, 'provider').map((b) => b.name);
  const impliedProviders: string[] = [];
  for (const keyword of RESOURCE_KEYWORDS) {
    atTopLevel(tokens, keyword, (i) => {
      // `resource "<type>" "<name>" {`: the type's prefix names the provider.
      const type = tokens[i + 1];
      if ((type?.t === 'string' || type?.t === 'ident') && tokens[i + 3]?.t === '{') impliedProviders.push(type.v.split('_')[0]!);
      return undefined;
    });
  }
  return { terraform, modules, providers: [...new Set(providers)].sort(), impliedProviders: [...new Set(impliedProviders)].sort() };
}

/** Tokens as comparable text: kinds and values, not offsets (a moved block reads the same). */
function tokenText(tokens: readonly Token[]): string {
  return tokens.map((tok) => ('v' in tok ? `${tok.t}:${JSON.stringify(tok.v)}` : tok.t)).join(' ');
}
