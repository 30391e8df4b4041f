// Network Slimming's sparsity regularisation: an L1 penalty lambda * sum |gamma| over the scale
// factors of every prunable BatchNorm. As in the official code, it is applied as the
// subgradient lambda * sign(gamma) added to each gamma's gradient after the backward pass
// (so it also flows through momentum), not as a term of the loss.
import * as tf from '@tensorflow/tfjs-core';
import { bnWeightNames } from '../ir/node.ts';
import type { Graph, WeightName } from '../ir/types.ts';
import { globToRegExp } from '../passes/select_channels.ts';

/** Gamma weights of the BNs pruning may cut: all BNs except those matching `exclude`. */
export function prunableGammas(graph: Graph, exclude: readonly string[] = []): WeightName[] {
  const patterns = exclude.map(globToRegExp);
  return graph.nodes.flatMap((n) => (n.op === 'batch_norm' && !patterns.some((p) => p.test(n.params)) ? [bnWeightNames(n.params).gamma] : []));
}

/** grads[gamma] += lambda * sign(gamma) for each named gamma; the replaced gradients are freed. */
export function addSparsitySubgradient(
  grads: tf.NamedTensorMap,
  variables: ReadonlyMap<WeightName, tf.Variable>,
  gammas: readonly WeightName[],
  lambda: number,
): void {
  if (lambda === 0) return;
  for (const name of gammas) {
    const g = grads[name];
    const gamma = variables.get(name);
    if (!g || !gamma) continue;
    grads[name] = tf.tidy(() => tf.add(g, tf.mul(tf.sign(gamma), lambda)));
    g.dispose();
  }
}
