// Lowering: a batch norm whose input is a conv or dense layer read by nothing else folds into
// that layer's weights and bias, so it costs nothing at run time.
import type { BatchNormNode, Conv2dNode, DenseNode, Graph, Node, Weight, WeightName } from '../../ir/types.ts';
import { affineBias, batchNormAffine, scaleOutputChannels } from './batch_norm_affine.ts';
import { rewriteToFixpoint, soleProducer, type AnyPeepholeRule, type Rewrite, type RewriteContext } from './rewrite.ts';

/** The layer with weights folded: W' = W * scale (per output channel), b' = b * scale + shift. */
function foldInto(layer: Conv2dNode | DenseNode, bn: BatchNormNode, ctx: RewriteContext): Rewrite | null {
  if (layer.activation !== 'none') return null;
  const { weights: current } = ctx;
  const affine = batchNormAffine(current, bn);
  const weightName = layer.op === 'conv2d' ? layer.filter : layer.weight;
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
  const folded: Node =
    n.op === 'conv2d'
      ? { ...n, type: bn.type, filter: newWeight, bias: newBias }
      : { ...n, type: bn.type, weight: newWeight, bias: newBias };
  return { replacement: folded, absorbed: [layer.id], weights };
}

/** The rule folding a BN into the `layer` op before it. */
const foldRule = (name: string, algebra: string, layer: 'conv2d' | 'dense'): AnyPeepholeRule => ({
  name,
  algebra,
  root: 'batch_norm',
  apply: (root, ctx) => {
    const producer = soleProducer(ctx, root.input, layer);
    return producer && foldInto(producer, root, ctx);
  },
});

export const FOLD_BATCH_NORM_RULES: readonly AnyPeepholeRule[] = [
  // bn(conv(x, W, b)) = conv(x, W * s, b * s + t), s = gamma / sqrt(var + eps), t = beta - mean * s
  foldRule('fold-bn-into-conv', 'bn(conv(x; W, b)) = conv(x; W*s, b*s + t)', 'conv2d'),
  // bn(x W + b) = x (W * s) + (b * s + t), per output feature
  foldRule('fold-bn-into-dense', 'bn(dense(x; W, b)) = dense(x; W*s, b*s + t)', 'dense'),
];

export function foldBatchNorm(graph: Graph): Graph {
  return rewriteToFixpoint(graph, FOLD_BATCH_NORM_RULES);
}
