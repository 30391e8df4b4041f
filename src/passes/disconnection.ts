// Why pruning cut every path from the network's input to an output, in terms a user can act on.
//
// The channel dataflow analysis says, per channel, whether a value still depends on the input
// (`independent`). Walking back from an output through values that depend on it nowhere, the
// walk stops at the cuts: nodes whose result is input-independent although an operand is not.
// At a BatchNorm a cut has one of two reasons:
// - the layer is emptied: every channel dropped (gamma = beta = 0);
// - the layer keeps channels, but none of those its input still carries: through a depthwise
//   conv (which ties channels 1:1) from an earlier BN whose kept set is disjoint from this one's.
//   No layer is empty, yet nothing passes (MobileNetV2 at ratio 0.9: the stem BN keeps 4
//   channels, the first depthwise BN keeps 3 others).
import { isElementwiseOp } from '../ir/elementwise.ts';
import { bnWeightNames, inputsOf } from '../ir/node.ts';
import type { BatchNormNode, Graph, Node, ValueId } from '../ir/types.ts';
import type { ChannelFlow } from './channel_flow.ts';
import { convKind } from './channel_linear.ts';

export interface Cut {
  /** The node where the input's last path ends. */
  readonly node: ValueId;
  /** The BN layers involved (by params name): the emptied one, or both of a disjoint pair. */
  readonly layers: readonly string[];
  /** One sentence: what happens at this node. */
  readonly reason: string;
}

export interface Disconnection {
  readonly output: ValueId;
  readonly cuts: readonly Cut[];
}

const fullyIndependent = (flags: Uint8Array | undefined) => flags !== undefined && flags.length > 0 && flags.every((f) => f === 1);
const dependentChannels = (flags: Uint8Array) => Array.from(flags.keys()).filter((c) => flags[c] === 0);

/** Lists channels compactly: `0, 1, 2, 3` or, for many, the first few and a count. */
export function channelList(channels: readonly number[]): string {
  return channels.length <= 8 ? channels.join(', ') : `${channels.slice(0, 6).join(', ')}, ... (${channels.length} channels)`;
}

/** The outputs that no longer depend on the network's input, each with the cuts that explain it. */
export function findDisconnections(graph: Graph, flow: ChannelFlow): Disconnection[] {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const result: Disconnection[] = [];
  for (const output of graph.outputs) {
    if (!fullyIndependent(flow.independent.get(output))) continue;
    const cuts: Cut[] = [];
    const seen = new Set<ValueId>();
    const stack = [output];
    while (stack.length > 0) {
      const v = stack.pop() as ValueId;
      if (seen.has(v)) continue;
      seen.add(v);
      const node = nodes.get(v) as Node;
      const operands = inputsOf(node);
      if (operands.every((o) => fullyIndependent(flow.independent.get(o)))) stack.push(...operands);
      else cuts.push(explainCut(graph, flow, nodes, node));
    }
    result.push({ output, cuts: cuts.reverse() });
  }
  return result;
}

function explainCut(graph: Graph, flow: ChannelFlow, nodes: ReadonlyMap<ValueId, Node>, node: Node): Cut {
  const operand = inputsOf(node).find((o) => !fullyIndependent(flow.independent.get(o))) as ValueId;
  const live = dependentChannels(flow.independent.get(operand) as Uint8Array);
  if (node.op !== 'batch_norm') {
    // A gather selecting other channels, a mul by a zeroed gate, a conv whose weights on the live channels are zero.
    return {
      node: node.id,
      layers: [],
      reason: `the result of %${node.id} (${node.op}) no longer depends on the input, although its operand %${operand} does on channels ${channelList(live)}`,
    };
  }
  const gamma = graph.weights[bnWeightNames(node.params).gamma].data;
  const kept = Array.from(gamma.keys()).filter((c) => gamma[c] !== 0);
  if (kept.length === 0) return { node: node.id, layers: [node.params], reason: `every channel of BN "${node.params}" is dropped` };
  const origin = originOf(flow, nodes, operand);
  const through =
    origin.depthwise.length > 0
      ? `, through the depthwise conv${origin.depthwise.length > 1 ? 's' : ''} ${origin.depthwise.map((d) => `%${d}`).join(', ')} (channels tied 1:1)`
      : '';
  const from = origin.bn
    ? `BN "${origin.bn.params}" keeps channels ${channelList(origin.kept)}${through}`
    : `only channels ${channelList(live)} of %${operand} still depend on the input`;
  return {
    node: node.id,
    layers: origin.bn ? [origin.bn.params, node.params] : [node.params],
    reason: `${from}; BN "${node.params}" keeps channels ${channelList(kept)} of ${gamma.length}: the kept sets are disjoint, so nothing passes`,
  };
}

/** Up from `v` through ops that tie channels 1:1: the BN that decides which channels carry the input. */
function originOf(
  flow: ChannelFlow,
  nodes: ReadonlyMap<ValueId, Node>,
  v: ValueId,
): { bn?: BatchNormNode; kept: number[]; depthwise: ValueId[] } {
  const depthwise: ValueId[] = [];
  let at = nodes.get(v);
  while (at) {
    const node: Node = at;
    const operand = inputsOf(node)[0];
    const oneToOne = isElementwiseOp(node.op) || node.op === 'max_pool' || node.op === 'avg_pool' || node.op === 'scale_shift';
    if (node.op === 'batch_norm')
      return { bn: node, kept: dependentChannels(flow.independent.get(node.id) as Uint8Array), depthwise: depthwise.reverse() };
    if (node.op === 'conv2d' && convKind(node, (nodes.get(operand) as Node).type) === 'depthwise') depthwise.push(node.id);
    else if (!oneToOne) break;
    at = nodes.get(operand);
  }
  return { kept: [], depthwise: [] };
}
