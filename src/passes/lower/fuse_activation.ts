// Lowering: a relu or relu6 whose input is a conv or dense layer read by nothing else becomes
// that layer's fused activation (tfjs runs bias and activation inside the conv kernel).
import type { Activation, Graph, Node, ValueId } from '../../ir/types.ts';
import { rewriteToFixpoint, soleProducer, type AnyPeepholeRule, type RewriteContext, type RuleResult } from './rewrite.ts';

/** What `outer` applied after a layer's fused `inner` activation amounts to, if one activation does. */
const COMPOSED: Readonly<Record<Activation, Partial<Record<Activation, Activation>>>> = {
  none: { relu: 'relu', relu6: 'relu6' },
  relu: { relu: 'relu', relu6: 'relu6' },
  relu6: { relu: 'relu6', relu6: 'relu6' },
};

/** The layer producing `input` with `activation` fused, if it is read only here. */
function fuse(root: Node, input: ValueId, activation: Activation, ctx: RewriteContext): RuleResult {
  const layer = soleProducer(ctx, input, 'conv2d') ?? soleProducer(ctx, input, 'dense');
  const composed = layer === null ? undefined : COMPOSED[layer.activation][activation];
  if (layer === null || composed === undefined) return null;
  return { replacement: { ...layer, type: root.type, activation: composed }, absorbed: [layer.id], weights: {} };
}

export const FUSE_ACTIVATION_RULES: readonly AnyPeepholeRule[] = [
  {
    name: 'fuse-relu',
    // relu(conv(x)) = conv_relu(x): the kernel clamps each output at 0 as it writes it;
    // relu(relu(y)) = relu(y) and relu(relu6(y)) = relu6(y), so an activation already fused composes
    algebra: 'relu(layer{a}(x)) = layer{relu o a}(x)',
    root: 'relu',
    apply: (root, ctx) => fuse(root, root.input, 'relu', ctx),
  },
  {
    name: 'fuse-relu6',
    // relu6(conv(x)) = conv_relu6(x): min(max(y, 0), 6) applied per output as above;
    // relu6(relu(y)) = relu6(y) and relu6(relu6(y)) = relu6(y)
    algebra: 'relu6(layer{a}(x)) = layer{relu6 o a}(x)',
    root: 'relu6',
    apply: (root, ctx) => fuse(root, root.input, 'relu6', ctx),
  },
];

export function fuseActivations(graph: Graph): Graph {
  return rewriteToFixpoint(graph, FUSE_ACTIVATION_RULES);
}
