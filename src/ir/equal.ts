// Structural equality of graphs, and a readable account of the first difference for test
// failures. Two graphs are equal when they have
// - the same name, the same inputs and the same outputs, in order, and the same border layout
//   (absent and NHWC differ: the comparison is of structure, not of meaning);
// - the same nodes by value id, field by field (attributes compare with Object.is, so -0 != 0);
//   nodes may come in a different topological order, which computes the same thing and is
//   what a pass that inserts a node may produce;
// - the same weights by name: the same shapes and bit-identical data.
// The comparison is generic over node fields rather than a match over ops: every field of every
// op is data, and a new field or op is compared without a change here.
import { graphInputs } from './node.ts';
import type { Graph, Node, Weight } from './types.ts';

export function graphsEqual(a: Graph, b: Graph): boolean {
  return describeGraphDifference(a, b) === null;
}

/** The first difference between two graphs as one readable line, or null if they are equal. */
export function describeGraphDifference(a: Graph, b: Graph): string | null {
  return structureDifference(a, b) ?? weightsDifference(a, b);
}

function structureDifference(a: Graph, b: Graph): string | null {
  if (a.name !== b.name) return `graph name: ${show(a.name)} vs ${show(b.name)}`;
  const inputsA = graphInputs(a).map((n) => n.id);
  const inputsB = graphInputs(b).map((n) => n.id);
  if (!sameList(inputsA, inputsB)) return `graph inputs: ${valueList(inputsA)} vs ${valueList(inputsB)}`;
  if (!sameList(a.outputs, b.outputs)) return `graph outputs: ${valueList(a.outputs)} vs ${valueList(b.outputs)}`;
  const layout = valueDifference(a.layout, b.layout, 'layout');
  if (layout) return `graph ${layout.path}: ${layout.first} vs ${layout.second}`;
  const nodesB = new Map(b.nodes.map((n) => [n.id, n]));
  const idsA = new Set(a.nodes.map((n) => n.id));
  for (const nodeA of a.nodes) {
    const nodeB = nodesB.get(nodeA.id);
    if (!nodeB) return `node %${nodeA.id} (${nodeA.op}) is only in the first graph`;
    const d = nodeDifference(nodeA, nodeB);
    if (d) return d;
  }
  const extra = b.nodes.find((n) => !idsA.has(n.id));
  if (extra) return `node %${extra.id} (${extra.op}) is only in the second graph`;
  if (a.nodes.length !== b.nodes.length) return `node count: ${a.nodes.length} vs ${b.nodes.length} (a value is defined twice)`;
  return null;
}

function nodeDifference(a: Node, b: Node): string | null {
  if (a.op !== b.op) return `node %${a.id}: op: ${a.op} vs ${b.op}`;
  const d = valueDifference(a, b, '');
  return d && `node %${a.id} (${a.op}): ${d.path}: ${d.first} vs ${d.second}`;
}

function weightsDifference(a: Graph, b: Graph): string | null {
  const onlyA = Object.keys(a.weights).find((name) => !Object.hasOwn(b.weights, name));
  if (onlyA !== undefined) return `weight @${onlyA} is only in the first graph`;
  const onlyB = Object.keys(b.weights).find((name) => !Object.hasOwn(a.weights, name));
  if (onlyB !== undefined) return `weight @${onlyB} is only in the second graph`;
  for (const [name, wa] of Object.entries(a.weights)) {
    const d = weightDifference(wa, b.weights[name]);
    if (d) return `weight @${name}: ${d}`;
  }
  return null;
}

function weightDifference(a: Weight, b: Weight): string | null {
  if (!sameList(a.shape, b.shape)) return `shape: [${a.shape.join(',')}] vs [${b.shape.join(',')}]`;
  if (a.data.length !== b.data.length) return `data length: ${a.data.length} vs ${b.data.length}`;
  // Compare bit patterns: NaN payloads and the sign of zero count.
  const bitsA = new Uint32Array(a.data.buffer, a.data.byteOffset, a.data.length);
  const bitsB = new Uint32Array(b.data.buffer, b.data.byteOffset, b.data.length);
  for (let i = 0; i < bitsA.length; i++) {
    if (bitsA[i] !== bitsB[i]) {
      return `data[${i}]: ${show(a.data[i])} vs ${show(b.data[i])} (bits 0x${hex(bitsA[i])} vs 0x${hex(bitsB[i])})`;
    }
  }
  return null;
}

interface Difference {
  readonly path: string;
  readonly first: string;
  readonly second: string;
}

/** First difference between two plain values (primitives, arrays, plain objects). */
function valueDifference(a: unknown, b: unknown, path: string): Difference | null {
  const here = (): Difference => ({ path: path || '(value)', first: show(a), second: show(b) });
  if (Array.isArray(a) && Array.isArray(b)) {
    // A list of numbers (a shape, indices, a pair) reads best whole.
    if (a.every(isPrimitive) && b.every(isPrimitive)) return sameList(a, b) ? null : here();
    if (a.length !== b.length) return { path: `${path}.length`, first: String(a.length), second: String(b.length) };
    for (let i = 0; i < a.length; i++) {
      const d = valueDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const d = valueDifference(a[key], b[key], path ? `${path}.${key}` : key);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : here();
}

const isPrimitive = (v: unknown) => v === null || typeof v !== 'object';
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const sameList = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
const valueList = (ids: readonly string[]) => `(${ids.map((v) => `%${v}`).join(', ')})`;
const hex = (bits: number) => bits.toString(16).padStart(8, '0');

/** A value as text that tells apart what Object.is tells apart (-0, NaN, undefined). */
function show(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v === undefined) return '(absent)';
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`;
  return JSON.stringify(v) ?? String(v);
}
