// Inference-mode batch norm is an affine map per channel:
//   gamma * (x - mean) / sqrt(var + eps) + beta  =  scale * x + shift
//   with scale = gamma / sqrt(var + eps) and shift = beta - mean * scale.
// Computed in float64 and rounded once, so folding adds a single rounding per weight.
import { bnWeightNames } from '../../ir/node.ts';
import type { BatchNormNode, Weights } from '../../ir/types.ts';

export interface ChannelAffine {
  readonly scale: Float64Array;
  readonly shift: Float64Array;
}

export function batchNormAffine(weights: Weights, bn: BatchNormNode): ChannelAffine {
  const names = bnWeightNames(bn.params);
  const gamma = weights[names.gamma].data;
  const beta = weights[names.beta].data;
  const mean = weights[names.mean].data;
  const variance = weights[names.variance].data;
  const scale = new Float64Array(gamma.length);
  const shift = new Float64Array(gamma.length);
  for (let c = 0; c < gamma.length; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + bn.epsilon);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** `weight` (last axis = output channel) with output channel c multiplied by scale[c]. */
export function scaleOutputChannels(data: Float32Array, scale: Float64Array): Float32Array {
  const channels = scale.length;
  const out = new Float32Array(data.length);
  for (let k = 0; k < data.length; k++) out[k] = data[k] * scale[k % channels];
  return out;
}

/** The bias after the affine map: (bias[c] or 0) * scale[c] + shift[c]. */
export function affineBias(bias: Float32Array | null, affine: ChannelAffine): Float32Array {
  return Float32Array.from(affine.scale, (s, c) => (bias === null ? 0 : bias[c]) * s + affine.shift[c]);
}
