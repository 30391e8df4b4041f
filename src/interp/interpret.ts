// The reference interpreter: one pass over the nodes in graph order, each value bound once in
// an environment (as JAX's eval_jaxpr), each intermediate disposed right after its last reader.
// It is the ground truth every transformed graph is checked against, so it stays this simple.
import * as tf from '@tensorflow/tfjs-core';
import { SlimcError } from '../ir/errors.ts';
import { inputsOf } from '../ir/node.ts';
import { formatShape } from '../ir/shapes.ts';
import type { Graph, Node, ValueId, WeightName } from '../ir/types.ts';
import { ensureBackend } from './backend.ts';
import { batchOf, batchedShape, bindInputs, commonBatch, namedInputs, type GraphInputs } from './inputs.ts';
import { evalNode, type ParamLookup } from './kernels.ts';
import { WeightTensors } from './weight-tensors.ts';

/** Where weight tensors come from: a cache the caller owns, or any lookup (tf.Variables in training). */
export type ParamSource = WeightTensors | ParamLookup;

export interface InterpretOptions {
  /** The batch size N the inputs must have; by default it is read off the input data. */
  readonly batch?: number;
  /** Weight tensors to reuse across calls; by default they are made from graph.weights and freed. */
  readonly params?: ParamSource;
}

/**
 * Runs `graph` on `inputs` (flat NHWC Float32Arrays of N samples, or tensors [N, ...]) on the
 * current backend (wasm unless initBackend chose another) and returns one Float32Array per
 * graph output, in order. Leaves no tensor behind; caller tensors are neither kept nor freed.
 */
export async function interpret(graph: Graph, inputs: GraphInputs, opts: InterpretOptions = {}): Promise<Float32Array[]> {
  await ensureBackend();
  const bound = bindInputs(graph, namedInputs(graph, inputs));
  const batch = commonBatch(
    bound.map(([node, data]) => [node, batchOf(node, data)]),
    opts.batch,
  );
  const uploaded: tf.Tensor[] = [];
  const tensors: Record<ValueId, tf.Tensor> = {};
  for (const [node, data] of bound) {
    if (data instanceof tf.Tensor) {
      tensors[node.id] = data;
    } else {
      const t = tf.tensor(data, batchedShape(node, batch), 'float32');
      uploaded.push(t);
      tensors[node.id] = t;
    }
  }
  try {
    const outputs = runGraph(graph, tensors, opts.params);
    try {
      return await Promise.all(outputs.map(async (t) => (await t.data()) as Float32Array));
    } finally {
      outputs.forEach((t) => t.dispose());
    }
  } finally {
    uploaded.forEach((t) => t.dispose());
  }
}

/**
 * Runs `graph` on input tensors [N, ...] and returns one new tensor per output, which the
 * caller disposes. Every intermediate is disposed at its last use; input tensors and weight
 * tensors from `params` are never disposed. Without `params`, weight tensors are made from
 * graph.weights for this call only. Synchronous: the backend must be initialised.
 */
export function runGraph(graph: Graph, inputs: Readonly<Record<ValueId, tf.Tensor>>, params?: ParamSource): tf.Tensor[] {
  const bound = bindInputs(graph, inputs);
  const batch = commonBatch(bound.map(([node, t]) => [node, batchOf(node, t)]));
  const callerOwned = new Set<tf.Tensor>(Object.values(inputs));
  const weights = resolveParams(graph, params);
  const remainingUses = countUses(graph);
  const env = new Map<ValueId, tf.Tensor>();

  /** Drops `v` from the environment, disposing its tensor unless the caller owns it. */
  const free = (v: ValueId) => {
    const t = env.get(v);
    env.delete(v);
    if (t !== undefined && !callerOwned.has(t)) t.dispose();
  };
  /** The tensor of `v`, which an earlier node must have defined (true of verified graphs). */
  const read = (v: ValueId, reader: string): tf.Tensor => {
    const t = env.get(v);
    if (t === undefined) throw new SlimcError(`reads %${v}, which no earlier node defines (run the verifier)`, reader);
    return t;
  };
  /** One use of `v` is done; after its last one, it is freed. */
  const release = (v: ValueId) => {
    const left = (remainingUses.get(v) ?? 0) - 1;
    remainingUses.set(v, left);
    if (left === 0) free(v);
  };

  try {
    for (const node of graph.nodes) {
      const args = inputsOf(node);
      const value =
        node.op === 'input'
          ? inputs[node.id]
          : evalNode(
              node,
              args.map((v) => read(v, `%${node.id}`)),
              weights.lookup,
            );
      env.set(node.id, value);
      checkShape(node, value, batch);
      args.forEach(release);
      // A value nobody reads (dead code) is freed at once.
      if (remainingUses.get(node.id) === 0) free(node.id);
    }
    graph.outputs.forEach((v) => read(v, graph.name));
    return graph.outputs.map((v) => {
      const t = read(v, graph.name);
      // At its last use our own tensor is handed over; a caller's tensor, or one that another
      // output still needs, is copied.
      if (remainingUses.get(v) === 1 && !callerOwned.has(t)) {
        env.delete(v);
        return t;
      }
      const copy = tf.clone(t);
      release(v);
      return copy;
    });
  } finally {
    // Empty after a complete run; after a failure it holds the live intermediates.
    for (const t of env.values()) if (!callerOwned.has(t)) t.dispose();
    weights.done();
  }
}

/** The kernel's result must have the node's declared type at batch N: a disagreement between
 *  the shape rules and the kernels is a bug to report, not a number to pass on. */
function checkShape(node: Node, value: tf.Tensor, batch: number): void {
  const expected = [batch, ...node.type.shape.slice(1)];
  if (formatShape(value.shape) !== formatShape(expected)) {
    throw new SlimcError(
      `${node.op}: computed shape ${formatShape(value.shape)}, but the node declares ${formatShape(expected)}`,
      `%${node.id}`,
    );
  }
}

/** Reads of each value by nodes (a node reading twice counts twice) plus its places in outputs. */
function countUses(graph: Graph): Map<ValueId, number> {
  const uses = new Map<ValueId, number>(graph.nodes.map((n) => [n.id, 0]));
  const use = (v: ValueId) => uses.set(v, (uses.get(v) ?? 0) + 1);
  graph.nodes.forEach((n) => inputsOf(n).forEach(use));
  graph.outputs.forEach(use);
  return uses;
}

interface ResolvedParams {
  readonly lookup: ParamLookup;
  /** Frees what this call made. */
  readonly done: () => void;
}

function resolveParams(graph: Graph, params: ParamSource | undefined): ResolvedParams {
  if (params === undefined) {
    const own = new WeightTensors(graph.weights);
    return { lookup: (name) => own.get(name), done: () => own.dispose() };
  }
  if (params instanceof WeightTensors) {
    const lookup = (name: WeightName) => {
      // A cache made for other weights (say, before a pass rewrote them) would silently give
      // the old numbers: weights are immutable, so the same data object means the same weight.
      if (params.weights[name] !== graph.weights[name]) {
        throw new SlimcError(`the WeightTensors cache was made from other weights than this graph's`, `@${name}`);
      }
      return params.get(name);
    };
    return { lookup, done: () => undefined };
  }
  return { lookup: params, done: () => undefined };
}
