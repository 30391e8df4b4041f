// The lowering pipeline that prepares a (pruned) graph for emission. Each pass is a pure
// Graph -> Graph function with a name, so the pass manager can print or diff the IR after it.
import type { Graph } from '../../ir/types.ts';
import type { Pass } from '../pass_manager.ts';
import { eliminateDeadCode } from './dead_code.ts';
import { expandActivations } from './expand_activations.ts';
import { foldBatchNorm } from './fold_batch_norm.ts';
import { foldChannelSelections } from './fold_channel_selection.ts';
import { fuseActivations } from './fuse_activation.ts';
import { poolBeforeConv } from './pool_before_conv.ts';
import { removeIdentities } from './identities.ts';
import { batchNormToScaleShift } from './scale_shift.ts';
import { scaleShiftToDepthwise } from './scale_shift_to_depthwise.ts';

/**
 * In order: identities and dead code first, so folding sees each BN's real producer; activations
 * without a backend kernel are written with ones that have it (after BN folding, so that the BN
 * before them still folds into its conv); activations
 * fuse into folded convs and into the depthwise convs that replace multiply-adds; an average pool
 * moves before the 1x1 conv feeding it once activations are fused (a fused one blocks the move);
 * channel selections fold last, through those fused per-channel convs into the convs after them.
 */
export const LOWERING_PASSES: readonly Pass[] = [
  { name: 'remove-identities', description: 'drop full channel selections and other identities', run: removeIdentities },
  { name: 'dead-code', description: 'remove nodes no output depends on', run: eliminateDeadCode },
  { name: 'fold-batch-norm', description: 'fold BN after conv/dense into weights and bias', run: foldBatchNorm },
  {
    name: 'expand-activations',
    description: 'write silu, hard_sigmoid and hard_swish with sigmoid, mul, relu6 and multiply-adds',
    run: expandActivations,
  },
  { name: 'bn-to-scale-shift', description: 'turn the remaining BNs into one multiply-add', run: batchNormToScaleShift },
  { name: 'scale-shift-to-depthwise', description: 'run NHWC multiply-adds as 1x1 depthwise convs (XNNPACK)', run: scaleShiftToDepthwise },
  { name: 'fuse-activations', description: 'fuse relu/relu6/sigmoid into the conv/dense before them', run: fuseActivations },
  {
    name: 'pool-before-conv',
    description: 'run an average pool after a 1x1 conv before it (fewer pixels to convolve)',
    run: poolBeforeConv,
  },
  {
    name: 'fold-channel-selections',
    description: 'drop channel selections before convs where zero weights cost less than the copy',
    run: foldChannelSelections,
  },
];

/** Runs every lowering pass; `after` sees the graph after each one (for printing and checks). */
export function lowerGraph(graph: Graph, after?: (pass: Pass, result: Graph) => void): Graph {
  let current = graph;
  for (const pass of LOWERING_PASSES) {
    current = pass.run(current);
    after?.(pass, current);
  }
  return current;
}

export { eliminateDeadCode } from './dead_code.ts';
export { expandActivations } from './expand_activations.ts';
export { FOLD_BATCH_NORM_RULES, foldBatchNorm } from './fold_batch_norm.ts';
export {
  FOLD_CHANNEL_SELECTION_RULES,
  foldChannelSelections,
  MAX_EXTRA_WEIGHTS,
  OP_DISPATCH_COST,
  SELECTION_COST_PER_ELEMENT,
} from './fold_channel_selection.ts';
export { FUSE_ACTIVATION_RULES, fuseActivations } from './fuse_activation.ts';
export { poolBeforeConv } from './pool_before_conv.ts';
export { IDENTITY_RULES, removeIdentities } from './identities.ts';
export { rewriteToFixpoint, type AnyPeepholeRule, type PeepholeRule, type RewriteStats } from './rewrite.ts';
export { SCALE_SHIFT_RULES, batchNormToScaleShift } from './scale_shift.ts';
export { SCALE_SHIFT_TO_DEPTHWISE_RULES, scaleShiftToDepthwise } from './scale_shift_to_depthwise.ts';
