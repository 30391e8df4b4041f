// The cost model: parameters, MACs and FLOPs per node and in total, for one sample (batch 1).
//
// Conventions (stated wherever figures are printed):
// - params count conv and dense weights and biases, BatchNorm gamma and beta, and the scale and
//   shift of scale_shift nodes; BN running mean and variance are statistics, not parameters.
// - MACs are the multiply-accumulates of conv and dense layers only.
// - FLOPs = 2 x MACs, the convention of the Network Slimming paper's tables
//   (VGG-19 on CIFAR-10: 398M MACs, reported as 7.97e8 FLOPs).
// Each op's MACs and which of its weights are parameters are in its record (ops.ts).
import { inputsOf } from './node.ts';
import { opDef } from './ops.ts';
import type { Graph, Node, TensorType, ValueId } from './types.ts';

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

export function nodeCost(graph: Graph, node: Node, typeOf: (v: ValueId) => TensorType): NodeCost {
  const def = opDef(node.op);
  const weightSize = (name: string | null) => (name === null ? 0 : size(graph.weights[name]?.shape ?? [0]));
  const params = (def.params ?? def.weights)(node).reduce((s, name) => s + weightSize(name), 0);
  const macs = def.macs(node, inputsOf(node).map(typeOf));
  return { id: node.id, op: node.op, shape: node.type.shape, params, macs };
}

export function cost(graph: Graph): Cost {
  const types = new Map(graph.nodes.map((n) => [n.id, n.type]));
  const nodes = graph.nodes.map((n) => nodeCost(graph, n, (v) => types.get(v) as TensorType));
  const params = nodes.reduce((s, n) => s + n.params, 0);
  const macs = nodes.reduce((s, n) => s + n.macs, 0);
  return { params, macs, flops: 2 * macs, nodes };
}
