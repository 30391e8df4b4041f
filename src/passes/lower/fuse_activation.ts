// Lowering: a relu or relu6 whose input is a conv or dense layer read by nothing else becomes
// that layer's fused activation (tfjs runs bias and activation inside the conv kernel).
import type { Activation, Graph, Node, ValueId } from '../../ir/types.ts';
import { rewriteToFixpoint, soleProducer, type PeepholeRule, type RewriteContext, type RuleResult } from './rewrite.ts';

/** The layer producing `input` with `activation` fused, if it is linear and read only here. */
function fuse(root: Node, input: ValueId, activation: Activation, ctx: RewriteContext): RuleResult {
  const layer = soleProducer(ctx, input, 'conv2d') ?? soleProducer(ctx, input, 'dense');
  if (layer === null || layer.activation !== 'none') return null;
  return { replacement: { ...layer, type: root.type, activation }, absorbed: [layer.id], weights: {} };
}

export const FUSE_ACTIVATION_RULES: readonly PeepholeRule[] = [
  {
    name: 'fuse-relu',
    // relu(conv(x)) = conv_relu(x): the kernel clamps each output at 0 as it writes it
    algebra: 'relu(layer(x)) = layer{activation=relu}(x)',
    apply: (root, ctx) => (root.op === 'relu' ? fuse(root, root.input, 'relu', ctx) : null),
  },
  {
    name: 'fuse-relu6',
    // relu6(conv(x)) = conv_relu6(x): min(max(y, 0), 6) applied per output as above
    algebra: 'relu6(layer(x)) = layer{activation=relu6}(x)',
    apply: (root, ctx) => (root.op === 'relu6' ? fuse(root, root.input, 'relu6', ctx) : null),
  },
];

export function fuseActivations(graph: Graph): Graph {
  return rewriteToFixpoint(graph, FUSE_ACTIVATION_RULES);
}
