// Network Slimming's sparsity regularisation: an L1 penalty lambda * sum |gamma| over the scale
// factors of every prunable BatchNorm. As in the official code, it is applied as the
// subgradient lambda * sign(gamma) added to each gamma's gradient after the backward pass
// (so it also flows through momentum), not as a term of the loss: the optimizer does it in its
// update loop (optimizer.ts, L1Penalty).
import { bnWeightNames } from '../ir/node.ts';
import type { Graph, WeightName } from '../ir/types.ts';
import { globToRegExp } from '../passes/select_channels.ts';

/** Gamma weights of the BNs pruning may cut: all BNs except those matching `exclude`. */
export function prunableGammas(graph: Graph, exclude: readonly string[] = []): WeightName[] {
  const patterns = exclude.map(globToRegExp);
  return graph.nodes.flatMap((n) =>
    n.op === 'batch_norm' && !patterns.some((p) => p.test(n.params)) ? [bnWeightNames(n.params).gamma] : [],
  );
}
