import { PlumblineError } from '../errors.ts';

/**
 * The dependency graph between units (`dependsOn`). Pure: no files, no YAML;
 * the loader turns findings into positioned problems.
 */

export interface DependencyNode {
  name: string;
  dependsOn: readonly string[];
}

/** One problem, reported on `unit` at its `dependsOn[index]` entry. */
export interface GraphFinding {
  unit: string;
  index: number;
  message: string;
}

/**
 * Unknown dependencies, duplicates, self-dependencies and cycles. A cycle is
 * reported once, on its alphabetically first unit, naming the whole loop.
 * Names are assumed unique (the loader reports duplicates itself).
 */
export function checkGraph(nodes: readonly DependencyNode[]): GraphFinding[] {
  const findings: GraphFinding[] = [];
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const known = [...byName.keys()].sort();
  for (const node of nodes) {
    const seen = new Set<string>();
    node.dependsOn.forEach((dep, index) => {
      const at = `dependsOn[${index}]`;
      if (seen.has(dep)) findings.push({ unit: node.name, index, message: `${at}: "${dep}" is listed twice` });
      else if (dep === node.name) findings.push({ unit: node.name, index, message: `${at}: a unit cannot depend on itself ("${dep}")` });
      else if (!byName.has(dep)) {
        findings.push({ unit: node.name, index, message: `${at}: unknown unit "${dep}" (known units: ${listNames(known)})` });
      }
      seen.add(dep);
    });
  }
  for (const { loop, others } of findCycles(byName)) {
    const [first = '', next = ''] = loop;
    const index = byName.get(first)?.dependsOn.indexOf(next) ?? 0;
    const also = others.length > 0 ? ` (also in a cycle with them: ${others.join(', ')})` : '';
    findings.push({ unit: first, index, message: `dependency cycle: ${[...loop, first].join(' -> ')}${also}` });
  }
  return findings;
}

/**
 * Dependencies first; ties broken by name so runs are reproducible.
 * Dependencies on units not in `units` are ignored (they are someone else's
 * problem: an invalid or removed definition). Throws on a cycle.
 */
export function topologicalOrder<T extends DependencyNode>(units: readonly T[]): T[] {
  const byName = new Map(units.map((u) => [u.name, u]));
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const unit of units) {
    const deps = new Set(unit.dependsOn.filter((d) => byName.has(d) && d !== unit.name));
    waitingOn.set(unit.name, deps.size);
    for (const dep of deps) dependents.set(dep, [...(dependents.get(dep) ?? []), unit.name]);
  }
  const ready = [...waitingOn].filter(([, n]) => n === 0).map(([name]) => name).sort();
  const order: T[] = [];
  while (ready.length > 0) {
    const name = ready.shift() as string;
    order.push(byName.get(name) as T);
    for (const dependent of dependents.get(name) ?? []) {
      const left = (waitingOn.get(dependent) ?? 0) - 1;
      waitingOn.set(dependent, left);
      if (left === 0) insertSorted(ready, dependent);
    }
  }
  if (order.length < byName.size) {
    const stuck = [...byName.keys()].filter((n) => !order.some((u) => u.name === n)).sort();
    throw new PlumblineError('E_DEPENDENCY_CYCLE', `dependency cycle between ${stuck.join(', ')}`, {
      hint: 'remove one dependsOn entry of the cycle',
    });
  }
  return order;
}

/**
 * One cycle per strongly connected component (self-loops excluded: they are
 * reported as self-dependencies): the shortest loop through the component's
 * alphabetically first unit, plus the component's other members when loops
 * overlap. Components are found with Tarjan's algorithm.
 */
function findCycles(byName: ReadonlyMap<string, DependencyNode>): { loop: string[]; others: string[] }[] {
  const edges = (name: string): string[] =>
    [...new Set(byName.get(name)?.dependsOn ?? [])].filter((d) => d !== name && byName.has(d)).sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;

  const visit = (name: string): void => {
    index.set(name, counter);
    low.set(name, counter);
    counter += 1;
    stack.push(name);
    onStack.add(name);
    for (const next of edges(name)) {
      if (!index.has(next)) {
        visit(next);
        low.set(name, Math.min(low.get(name) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(name, Math.min(low.get(name) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(name) === index.get(name)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== name);
      if (component.length > 1) components.push(component);
    }
  };
  for (const name of [...byName.keys()].sort()) if (!index.has(name)) visit(name);

  return components
    .map((component) => {
      const loop = shortestLoop(component.sort(), edges);
      return { loop, others: component.filter((m) => !loop.includes(m)) };
    })
    .sort((a, b) => (a.loop[0] ?? '').localeCompare(b.loop[0] ?? ''));
}

/** Breadth-first from the first member back to itself, inside the component. */
function shortestLoop(component: string[], edges: (name: string) => string[]): string[] {
  const start = component[0] as string;
  const members = new Set(component);
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    for (const next of edges(current)) {
      if (!members.has(next)) continue;
      if (next === start) {
        const loop = [current];
        while (loop[0] !== start) loop.unshift(parent.get(loop[0] as string) as string);
        return loop;
      }
      if (!parent.has(next)) {
        parent.set(next, current);
        queue.push(next);
      }
    }
  }
  return component;
}

function listNames(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  return names.length > 20 ? `${names.slice(0, 20).join(', ')}, ...` : names.join(', ');
}

function insertSorted(list: string[], value: string): void {
  const at = list.findIndex((x) => x > value);
  if (at === -1) list.push(value);
  else list.splice(at, 0, value);
}
