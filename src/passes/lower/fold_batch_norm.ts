// Lowering: a batch norm whose input is a conv or dense layer read by nothing else folds into
// that layer's weights and bias, so it costs nothing at run time.
import type { BatchNormNode, Conv2dNode, DenseNode, Graph, Node, Weight, WeightName } from '../../ir/types.ts';
import { affineBias, batchNormAffine, scaleOutputChannels } from './batch_norm_affine.ts';
import { rewriteToFixpoint, soleProducer, type AnyPeepholeRule, type Rewrite, type RewriteContext } from './rewrite.ts';

/** The layer with weights folded: W' = W * scale (per output channel), b' = b * scale + shift. */
function foldInto<L extends Conv2dNode | DenseNode>(layer: L, weightOf: (l: L) => WeightName, bn: BatchNormNode, ctx: RewriteContext): Rewrite | null {
  if (layer.activation !== 'none') return null;
  const { weights: current } = ctx;
  const affine = batchNormAffine(current, bn);
  const weightName = weightOf(layer);
  const weight = current[weightName];
  const bias = layer.bias === null ? null : current[layer.bias];
  const taken = new Set<WeightName>();
  // A weight another node also reads keeps its data; the folded copy gets a name of its own.
  const nameFor = (name0: WeightName | null, base: WeightName): WeightName => {
    const name = name0 !== null && !ctx.weightShared(name0, [layer.id]) ? name0 : ctx.freshWeightName(base, taken);
    taken.add(name);
    return name;
  };
  const newWeight = nameFor(weightName, `${weightName}.folded`);
  const newBias = nameFor(layer.bias, `${layer.id}.b`);
  const weights: Record<WeightName, Weight> = {
    [newWeight]: { shape: weight.shape, data: scaleOutputChannels(weight.data, affine.scale) },
    [newBias]: { shape: [affine.scale.length], data: affineBias(bias?.data ?? null, affine) },
  };
  const n: Conv2dNode | DenseNode = layer;
  const folded: Node = n.op === 'conv2d' ? { ...n, type: bn.type, filter: newWeight, bias: newBias } : { ...n, type: bn.type, weight: newWeight, bias: newBias };
  return { replacement: folded, absorbed: [layer.id], weights };
}

export const FOLD_BATCH_NORM_RULES: readonly AnyPeepholeRule[] = [
  {
    name: 'fold-bn-into-conv',
    // bn(conv(x, W, b)) = conv(x, W * s, b * s + t), s = gamma / sqrt(var + eps), t = beta - mean * s
    algebra: 'bn(conv(x; W, b)) = conv(x; W*s, b*s + t)',
    root: 'batch_norm',
    apply: (root, ctx) => {
      const conv = soleProducer(ctx, root.input, 'conv2d');
      return conv && foldInto(conv, (c) => c.filter, root, ctx);
    },
  },
  {
    name: 'fold-bn-into-dense',
    // bn(x W + b) = x (W * s) + (b * s + t), per output feature
    algebra: 'bn(dense(x; W, b)) = dense(x; W*s, b*s + t)',
    root: 'batch_norm',
    apply: (root, ctx) => {
      const dense = soleProducer(ctx, root.input, 'dense');
      return dense && foldInto(dense, (d) => d.weight, root, ctx);
    },
  },
];

export function foldBatchNorm(graph: Graph): Graph {
  return rewriteToFixpoint(graph, FOLD_BATCH_NORM_RULES);
}
