// The cost model: parameters, MACs and FLOPs per node and in total, for one sample (batch 1).
//
// Conventions (stated wherever figures are printed):
// - params count conv and dense weights and biases, BatchNorm gamma and beta, and the scale and
//   shift of scale_shift nodes; BN running mean and variance are statistics, not parameters.
// - MACs are the multiply-accumulates of conv and dense layers only.
// - FLOPs = 2 x MACs, the convention of the Network Slimming paper's tables
//   (VGG-19 on CIFAR-10: 398M MACs, reported as 7.97e8 FLOPs).
import { match } from 'ts-pattern';
import { bnWeightNames } from './node.ts';
import type { Graph, Node, ValueId } from './types.ts';

/** How the figures are counted; printed wherever they are. */
export const COST_CONVENTION =
  'params count conv and dense weights and biases, BatchNorm gamma and beta, and scale_shift scale and shift ' +
  '(not BN running statistics); MACs are the multiply-accumulates of conv and dense layers for one sample; ' +
  'FLOPs = 2 x MACs, as in the Network Slimming paper';

export interface NodeCost {
  readonly id: ValueId;
  readonly op: Node['op'];
  readonly shape: readonly number[];
  readonly params: number;
  readonly macs: number;
}

export interface Cost {
  readonly params: number;
  readonly macs: number;
  readonly flops: number;
  readonly nodes: readonly NodeCost[];
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function nodeCost(graph: Graph, node: Node, inputChannels: (v: ValueId) => number): NodeCost {
  const weightSize = (name: string | null) => (name === null ? 0 : size(graph.weights[name]?.shape ?? [0]));
  const outPerSample = size(node.type.shape.slice(1));
  const [params, macs] = match(node)
    .with({ op: 'conv2d' }, (n) => [
      weightSize(n.filter) + weightSize(n.bias),
      outPerSample * n.kernel[0] * n.kernel[1] * (inputChannels(n.input) / n.groups),
    ])
    .with({ op: 'dense' }, (n) => [weightSize(n.weight) + weightSize(n.bias), outPerSample * inputChannels(n.input)])
    .with({ op: 'batch_norm' }, (n) => {
      const w = bnWeightNames(n.params);
      return [weightSize(w.gamma) + weightSize(w.beta), 0];
    })
    .with({ op: 'scale_shift' }, (n) => [weightSize(n.scale) + weightSize(n.shift), 0])
    .with(
      { op: 'input' },
      { op: 'relu' },
      { op: 'relu6' },
      { op: 'max_pool' },
      { op: 'avg_pool' },
      { op: 'global_avg_pool' },
      { op: 'add' },
      { op: 'concat' },
      { op: 'flatten' },
      { op: 'gather' },
      { op: 'softmax' },
      () => [0, 0],
    )
    .exhaustive();
  return { id: node.id, op: node.op, shape: node.type.shape, params, macs };
}

export function cost(graph: Graph): Cost {
  const channels = new Map(graph.nodes.map((n) => [n.id, n.type.shape[n.type.shape.length - 1]]));
  const nodes = graph.nodes.map((n) => nodeCost(graph, n, (v) => channels.get(v) ?? 0));
  const params = nodes.reduce((s, n) => s + n.params, 0);
  const macs = nodes.reduce((s, n) => s + n.macs, 0);
  return { params, macs, flops: 2 * macs, nodes };
}
