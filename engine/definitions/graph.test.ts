import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlumblineError } from '../errors.ts';
import { checkGraph, type DependencyNode, topologicalOrder } from './graph.ts';

const node = (name: string, ...dependsOn: string[]): DependencyNode => ({ name, dependsOn });

test('a sound graph has no findings', () => {
  assert.deepEqual(checkGraph([node('a'), node('b', 'a'), node('c', 'a', 'b')]), []);
});

test('an unknown dependency is named with the known units', () => {
  assert.deepEqual(checkGraph([node('a'), node('b'), node('c', 'netwrk')]), [
    { unit: 'c', index: 0, message: 'dependsOn[0]: unknown unit "netwrk" (known units: a, b, c)' },
  ]);
});

test('a self-dependency is reported as such, not as a cycle', () => {
  assert.deepEqual(checkGraph([node('a', 'b', 'a'), node('b')]), [
    { unit: 'a', index: 1, message: 'dependsOn[1]: a unit cannot depend on itself ("a")' },
  ]);
});

test('a dependency listed twice is reported at its second mention', () => {
  assert.deepEqual(checkGraph([node('a'), node('b', 'a', 'a')]), [
    { unit: 'b', index: 1, message: 'dependsOn[1]: "a" is listed twice' },
  ]);
});

test('one finding per cycle, naming the whole loop from its first unit', () => {
  const findings = checkGraph([node('c', 'a'), node('a', 'b'), node('b', 'c'), node('x', 'y'), node('y', 'x'), node('z', 'a')]);
  assert.deepEqual(findings, [
    { unit: 'a', index: 0, message: 'dependency cycle: a -> b -> c -> a' },
    { unit: 'x', index: 0, message: 'dependency cycle: x -> y -> x' },
  ]);
});

test('the finding points at the entry that continues the loop', () => {
  assert.deepEqual(checkGraph([node('a', 'z', 'b'), node('b', 'a'), node('z')]), [
    { unit: 'a', index: 1, message: 'dependency cycle: a -> b -> a' },
  ]);
});

test('overlapping loops are one finding that names every unit involved', () => {
  const findings = checkGraph([node('a', 'b'), node('b', 'a', 'c'), node('c', 'b')]);
  assert.deepEqual(findings, [{ unit: 'a', index: 0, message: 'dependency cycle: a -> b -> a (also in a cycle with them: c)' }]);
});

test('topological order puts dependencies first, ties by name', () => {
  const order = topologicalOrder([node('web', 'db', 'net'), node('db', 'net'), node('net'), node('dns'), node('cdn', 'dns')]);
  assert.deepEqual(
    order.map((u) => u.name),
    ['dns', 'cdn', 'net', 'db', 'web'],
  );
});

test('topological order keeps the objects and ignores dependencies outside the set', () => {
  const units = [{ name: 'b', dependsOn: ['a', 'gone'], extra: 1 }, { name: 'a', dependsOn: [], extra: 2 }];
  const order = topologicalOrder(units);
  assert.equal(order[0], units[1]);
  assert.equal(order[1], units[0]);
});

test('topological order refuses a cycle', () => {
  assert.throws(
    () => topologicalOrder([node('a', 'b'), node('b', 'a'), node('c')]),
    (e: unknown) => e instanceof PlumblineError && e.code === 'E_DEPENDENCY_CYCLE' && /a, b/.test(e.message),
  );
});
