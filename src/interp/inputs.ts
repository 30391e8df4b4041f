// Binding the caller's data to a graph's inputs: names, shapes, and the batch size N, which is
// dimension 0 of every value and is read off the data (the graph records the batch it was built
// for, but no op mixes samples, so any N runs).
import * as tf from '@tensorflow/tfjs-core';
import { SlimcError } from '../ir/errors.ts';
import { graphInputs } from '../ir/node.ts';
import { formatShape } from '../ir/shapes.ts';
import type { Graph, InputNode, ValueId } from '../ir/types.ts';

/** One input's data: a flat NHWC Float32Array of N samples, or a tensor [N, ...]. */
export type InputData = Float32Array | tf.Tensor;

/** The data of a single-input graph, or the data of each input by value name. */
export type GraphInputs = InputData | Readonly<Record<ValueId, InputData>>;

const sampleShape = (node: InputNode): readonly number[] => node.type.shape.slice(1);
const sampleSize = (node: InputNode): number => sampleShape(node).reduce((a, b) => a * b, 1);

/** `[N,32,32,3]`: the shapes an input accepts. */
const acceptedShape = (node: InputNode): string => `[N,${sampleShape(node).join(',')}]`;

/** `%x: f32[N,32,32,3]`, the way errors name an input. */
export const describeInput = (node: InputNode): string => `%${node.id}: f32${acceptedShape(node)}`;

/** The shape of `node`'s value for a batch of n. */
export const batchedShape = (node: InputNode, n: number): number[] => [n, ...sampleShape(node)];

/** The inputs keyed by name; bare data is allowed only for a graph with exactly one input. */
export function namedInputs(graph: Graph, inputs: GraphInputs): Readonly<Record<ValueId, InputData>> {
  if (!(inputs instanceof Float32Array || inputs instanceof tf.Tensor)) return inputs;
  const nodes = graphInputs(graph);
  if (nodes.length !== 1) {
    throw new SlimcError(`graph '${graph.name}' has ${nodes.length} inputs (${nodes.map(describeInput).join(', ')}): pass them by name`);
  }
  return { [nodes[0].id]: inputs };
}

/** The input nodes, each with its data; every given name must be an input and every input given. */
export function bindInputs<T>(graph: Graph, inputs: Readonly<Record<ValueId, T>>): [InputNode, T][] {
  const nodes = graphInputs(graph) as InputNode[];
  const expected = nodes.map(describeInput).join(', ');
  for (const name of Object.keys(inputs)) {
    if (!nodes.some((n) => n.id === name)) {
      throw new SlimcError(`graph '${graph.name}' has no input %${name}; it takes ${expected}`);
    }
  }
  return nodes.map((node): [InputNode, T] => {
    if (!(node.id in inputs)) throw new SlimcError(`input ${describeInput(node)} is not given`, graph.name);
    return [node, inputs[node.id]];
  });
}

/** The batch size N of one input's data, checked against the input's per-sample shape. */
export function batchOf(node: InputNode, data: InputData): number {
  const perSample = sampleSize(node);
  if (data instanceof Float32Array) {
    if (data.length === 0 || data.length % perSample !== 0) {
      throw new SlimcError(
        `expects shape ${acceptedShape(node)} (${perSample} floats per sample), got ${data.length} floats, which is not a positive multiple of ${perSample}`,
        `%${node.id}`,
      );
    }
    return data.length / perSample;
  }
  const sample = sampleShape(node);
  const fits = data.rank === sample.length + 1 && data.shape[0] > 0 && sample.every((d, i) => data.shape[i + 1] === d);
  if (!fits) {
    throw new SlimcError(`expects a tensor of shape ${acceptedShape(node)}, got ${formatShape(data.shape)}`, `%${node.id}`);
  }
  if (data.dtype !== 'float32') throw new SlimcError(`expects a float32 tensor, got ${data.dtype}`, `%${node.id}`);
  return data.shape[0];
}

/** The one batch size of all inputs (and of `expected`, when the caller states it). */
export function commonBatch(batches: readonly [InputNode, number][], expected?: number): number {
  if (batches.length === 0) return expected ?? 1;
  const [first] = batches;
  const n = expected ?? first[1];
  for (const [node, b] of batches) {
    if (b !== n) {
      const why = expected !== undefined ? `the stated batch is ${expected}` : `%${first[0].id} has batch ${n}`;
      throw new SlimcError(`has batch ${b} but ${why}`, `%${node.id}`);
    }
  }
  return n;
}
