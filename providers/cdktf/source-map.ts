import { z } from 'zod';

/**
 * From the synthesized Terraform JSON back to the TypeScript that wrote it.
 * cdktf puts a `//` metadata object in every resource, data source and module
 * block of cdk.tf.json: the construct path, and a stack trace of where the
 * construct was created (captured by runtime/trace-constructs.cjs and made
 * repository-relative after synthesis). A Terraform diagnostic names a
 * resource address, a line of cdk.tf.json, or both: either leads to a block,
 * and the block to a TypeScript file and line.
 */

/** A line of the app's own code. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** A block of cdk.tf.json and where the app created it. */
export interface ElementSource {
  /** Terraform's address of the block (`aws_vpc.vpc`, `data.aws_ami.al2023`, `module.vpc`, `output.id`). */
  address: string;
  /** The construct path (`network/vpc`), when cdktf recorded one. */
  constructPath?: string;
  location?: SourceLocation;
}

const metadataSchema = z.looseObject({
  '//': z
    .looseObject({
      metadata: z.looseObject({ path: z.string().optional(), stackTrace: z.array(z.string()).optional() }).optional(),
    })
    .optional(),
});

/** `at new Net (stacks/web/main.ts:6:5)`, `at stacks/web/main.ts:9:1`: a repository-relative frame. */
const FRAME = /^at (?:.*?\()?((?!\/|[a-z]+:)[^()]+?):(\d+):(\d+)\)?$/;

/** The first frame of a trace that names a repository file (traces are made repository-relative after synthesis). */
export function locationOfTrace(trace: readonly string[] | undefined): SourceLocation | undefined {
  for (const frame of trace ?? []) {
    const match = FRAME.exec(frame.trim());
    if (match) return { file: match[1]!, line: Number(match[2]), column: Number(match[3]) };
  }
  return undefined;
}

/** The address of the block a key path of cdk.tf.json lies in, or null outside any block. */
export function addressOfPath(path: readonly (string | number)[]): string | null {
  const [section, first, second] = path;
  if (typeof first !== 'string') return null;
  switch (section) {
    case 'resource':
      return typeof second === 'string' ? `${first}.${second}` : null;
    case 'data':
      return typeof second === 'string' ? `data.${first}.${second}` : null;
    case 'module':
    case 'output':
    case 'provider':
      return `${section}.${first}`;
    case 'variable':
      return `var.${first}`;
    case 'locals':
      return `local.${first}`;
    default:
      return null;
  }
}

/** The block of cdk.tf.json that an address of Terraform's (`module.vpc.aws_subnet.a[0]`) falls in. */
export function blockAddress(address: string): string {
  const parts = address.replace(/\[[^\]]*\]/g, '').split('.');
  if (parts[0] === 'module' || parts[0] === 'output' || parts[0] === 'var' || parts[0] === 'local' || parts[0] === 'provider') {
    return parts.slice(0, 2).join('.');
  }
  if (parts[0] === 'data') return parts.slice(0, 3).join('.');
  return parts.slice(0, 2).join('.');
}

/** Every block of a synthesized stack, by address. */
export function elementsOf(config: unknown): Map<string, ElementSource> {
  const elements = new Map<string, ElementSource>();
  if (!config || typeof config !== 'object') return elements;
  const sections = config as Record<string, unknown>;
  const visit = (prefix: (string | number)[], blocks: unknown, depth: number): void => {
    if (!blocks || typeof blocks !== 'object') return;
    for (const [name, block] of Object.entries(blocks as Record<string, unknown>)) {
      if (name === '//') continue;
      if (depth > 1) {
        visit([...prefix, name], block, depth - 1);
        continue;
      }
      const address = addressOfPath([...prefix, name]);
      if (!address) continue;
      const metadata = metadataSchema.safeParse(block).data?.['//']?.metadata;
      elements.set(address, {
        address,
        ...(metadata?.path ? { constructPath: metadata.path } : {}),
        ...(locationOfTrace(metadata?.stackTrace) ? { location: locationOfTrace(metadata?.stackTrace) } : {}),
      });
    }
  };
  for (const section of ['resource', 'data']) visit([section], sections[section], 2);
  for (const section of ['module', 'output', 'variable', 'provider', 'locals']) visit([section], sections[section], 1);
  return elements;
}

/**
 * The key path at a 1-based line of a JSON text (`resource`, `aws_vpc`, `vpc`,
 * `cidr_block`): where the line's first value or key sits. Null past the end.
 */
export function jsonPathAtLine(text: string, line: number): (string | number)[] | null {
  interface Frame {
    kind: 'object' | 'array';
    key: string | number | null;
  }
  const stack: Frame[] = [];
  let current = 1;
  let expectKey = false;
  const pathNow = (): (string | number)[] => stack.flatMap((f) => (f.key === null ? [] : [f.key]));
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\n') {
      current++;
      continue;
    }
    if (/\s/.test(char)) continue;
    if (current > line) return null;
    const top = stack.at(-1);
    if (char === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const value = JSON.parse(text.slice(i, end + 1)) as string;
      if (top?.kind === 'object' && expectKey) {
        top.key = value;
        expectKey = false;
      }
      if (current === line) return pathNow();
      i = end;
      continue;
    }
    if (current === line && char !== '}' && char !== ']' && char !== ',') return pathNow();
    if (char === '{' || char === '[') {
      stack.push({ kind: char === '{' ? 'object' : 'array', key: char === '[' ? 0 : null });
      expectKey = char === '{';
    } else if (char === '}' || char === ']') {
      stack.pop();
      if (current === line) return pathNow();
    } else if (char === ',') {
      if (top?.kind === 'array' && typeof top.key === 'number') top.key++;
      else if (top) expectKey = true;
    }
  }
  return null;
}
