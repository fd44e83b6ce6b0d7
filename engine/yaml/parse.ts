import yaml from 'js-yaml';
import type { Problem } from '../errors.ts';
import { PositionRecorder, type PositionNode } from './position-tree.ts';

/** A path into a parsed document: mapping keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

/** 1-based, like editors and compilers print them. */
export interface Position {
  line: number;
  column: number;
}

export type Locate = (path: YamlPath) => Position;

export interface ParsedYaml {
  /** The document's value; undefined when the text is not valid YAML. */
  value: unknown;
  problems: Problem[];
  /**
   * Where a path is written: the key of a mapping field, the item of a sequence
   * index, or the nearest ancestor that exists when the path does not.
   */
  locate: Locate;
}

/**
 * Core schema (what JSON and most YAML users expect) plus merge keys. The
 * default schema would also turn `2024-01-01` into a Date, which is never what
 * a variable meant to pass on to a tool wants.
 */
const SCHEMA = yaml.CORE_SCHEMA.extend({
  // js-yaml exports its types, but @types/js-yaml does not declare them.
  implicit: [(yaml as unknown as { types: { merge: yaml.Type } }).types.merge],
});

const START: Position = { line: 1, column: 1 };

export function parseYamlDocument(text: string, file: string): ParsedYaml {
  const recorder = new PositionRecorder();
  try {
    const value = yaml.load(text, { filename: file, schema: SCHEMA, listener: recorder.listener });
    const lines = lineStarts(recorder.input);
    const tree = recorder.tree();
    return {
      value,
      problems: [],
      locate: (path) => (tree ? positionOf(lines, locateOffset(tree, path)) : START),
    };
  } catch (error) {
    if (!(error instanceof yaml.YAMLException)) throw error;
    return { value: undefined, problems: [syntaxProblem(error, recorder, file)], locate: () => START };
  }
}

function syntaxProblem(error: yaml.YAMLException, recorder: PositionRecorder, file: string): Problem {
  const message = `invalid YAML: ${error.reason}`;
  if (error.mark) return { file, line: error.mark.line + 1, column: error.mark.column + 1, message };
  // Only "more than one document" comes without a mark: point at the second one.
  const second = recorder.documentStart(1);
  const at = second === undefined ? START : positionOf(lineStarts(recorder.input), second);
  return { file, ...at, message };
}

function locateOffset(root: PositionNode, path: YamlPath): number {
  let node: PositionNode = root;
  let offset = root.start;
  for (const segment of path) {
    if (typeof segment === 'number') {
      const item = node.items?.[segment];
      if (!item) return offset;
      offset = item.start;
      node = item;
    } else {
      const entry = node.entries?.get(segment);
      if (!entry) return offset;
      offset = entry.key;
      if (!entry.value) return offset;
      node = entry.value;
    }
  }
  return offset;
}

function lineStarts(input: string): number[] {
  const starts = [0];
  for (let i = 0; i < input.length; i += 1) if (input.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function positionOf(starts: number[], offset: number): Position {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - (starts[low] ?? 0) + 1 };
}
