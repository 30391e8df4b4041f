// The graph executed for training: every op as the reference interpreter computes it, except
// batch_norm, which normalises with the batch statistics (training mode), and does the relu
// after it too when that relu is its only reader.
import * as tf from '@tensorflow/tfjs-core';
import { SlimcError } from '../ir/errors.ts';
import { bnWeightNames, inputsOf, usersOf } from '../ir/node.ts';
import type { Graph, Node, ValueId } from '../ir/types.ts';
import { evalNode } from '../interp/kernels.ts';
import { batchNormTraining, type BatchStatistics } from './batch_norm.ts';
import type { TrainableWeights } from './trainable.ts';

/** The value whose softmax is the prediction: the output, or the input of a final softmax. */
export function logitsValue(graph: Graph): Node {
  if (graph.outputs.length !== 1) {
    throw new SlimcError(`training needs a graph with one output (the class scores), this one has ${graph.outputs.length}`, graph.name);
  }
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const out = byId.get(graph.outputs[0]);
  if (!out) throw new SlimcError(`output %${graph.outputs[0]} is never defined`, graph.name);
  const logits = out.op === 'softmax' ? (byId.get(out.input) as Node) : out;
  if (logits.type.shape.length !== 2) {
    throw new SlimcError(
      `training needs class scores of shape [N, classes]; the output has shape [${logits.type.shape.join(',')}]`,
      `%${logits.id}`,
    );
  }
  return logits;
}

/**
 * Batch norms whose only reader is a relu, by id, with the relu's id: the norm's kernels do the
 * relu too (one pass less each way), and the relu node passes the value on.
 */
function normsWithRelu(graph: Graph): Map<ValueId, ValueId> {
  const users = usersOf(graph);
  const fused = new Map<ValueId, ValueId>();
  for (const node of graph.nodes) {
    const readers = users.get(node.id) ?? [];
    if (node.op !== 'batch_norm' || readers.length !== 1 || readers[0].op !== 'relu' || graph.outputs.includes(node.id)) continue;
    fused.set(node.id, readers[0].id);
  }
  return fused;
}

/** The class scores [N, classes] for a batch, in training mode; BN batch statistics by BN name. */
export function forwardTraining(
  graph: Graph,
  weights: TrainableWeights,
  x: tf.Tensor,
  statistics: Map<string, BatchStatistics>,
): tf.Tensor2D {
  const target = logitsValue(graph).id;
  const reluAfter = normsWithRelu(graph);
  const fusedRelus = new Set(reluAfter.values());
  const env = new Map<ValueId, tf.Tensor>();
  for (const node of graph.nodes) {
    if (node.op === 'input') {
      env.set(node.id, x);
      continue;
    }
    const args = inputsOf(node).map((v) => env.get(v) as tf.Tensor);
    if (node.op === 'relu' && fusedRelus.has(node.id)) {
      env.set(node.id, args[0]); // done by the norm before it
    } else if (node.op === 'batch_norm') {
      const w = bnWeightNames(node.params);
      const onStatistics = (s: BatchStatistics) => statistics.set(node.params, s);
      const relu = reluAfter.has(node.id);
      env.set(node.id, batchNormTraining(args[0], weights.lookup(w.gamma), weights.lookup(w.beta), node.epsilon, onStatistics, relu));
    } else {
      env.set(node.id, evalNode(node, args, weights.lookup));
    }
    if (node.id === target) return env.get(node.id) as tf.Tensor2D;
  }
  throw new SlimcError(`the class scores %${target} are never computed`, graph.name);
}
