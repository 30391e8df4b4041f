// Lowering: a batch norm that could not fold into a producer (pre-activation: its input is a
// residual sum or a concat read by others too) becomes one multiply-add with precomputed
// per-channel scale and shift.
import type { Graph, WeightName } from '../../ir/types.ts';
import { batchNormAffine } from './batch_norm_affine.ts';
import { rewriteToFixpoint, type AnyPeepholeRule } from './rewrite.ts';

export const SCALE_SHIFT_RULES: readonly AnyPeepholeRule[] = [
  {
    name: 'bn-to-scale-shift',
    // gamma (x - mean) / sqrt(var + eps) + beta = x * s + t, s = gamma / sqrt(var + eps), t = beta - mean * s
    algebra: 'bn(x) = x*s + t',
    root: 'batch_norm',
    apply: (root, ctx) => {
      const { scale, shift } = batchNormAffine(ctx.weights, root);
      const taken = new Set<WeightName>();
      const scaleName = ctx.freshWeightName(`${root.params}.scale`, taken);
      taken.add(scaleName);
      const shiftName = ctx.freshWeightName(`${root.params}.shift`, taken);
      const shape = [scale.length];
      return {
        replacement: { op: 'scale_shift', id: root.id, type: root.type, input: root.input, scale: scaleName, shift: shiftName },
        absorbed: [],
        weights: {
          [scaleName]: { shape, data: Float32Array.from(scale) },
          [shiftName]: { shape, data: Float32Array.from(shift) },
        },
      };
    },
  },
];

export function batchNormToScaleShift(graph: Graph): Graph {
  return rewriteToFixpoint(graph, SCALE_SHIFT_RULES);
}
