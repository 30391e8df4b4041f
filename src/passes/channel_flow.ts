// Channel dataflow analysis: which channels of which values the compact graph must compute.
//
// Two facts per channel (per last-axis index: a channel of an NHWC value, a feature of an
// [N, F] value):
// - forward, `constants`: the channel is input-independent and spatially constant, with that
//   value (null: it varies). A BN channel with gamma = beta = 0 is the constant 0; a conv output
//   whose live inputs are all constant is constant; and so on. Null is always a safe answer.
// - backward, `need`: some consumer reads the channel. A consumer that is linear in its input
//   (a conv without padding effects, a dense layer) does not need a constant channel: it folds
//   the constant into its bias. A residual add does not need an operand that is constant on
//   every channel it produces: the constant becomes a shift on the add's result.
// A channel is kept where it is needed. The graph is a DAG in topological order, so one forward
// sweep and one backward sweep reach the fixpoint: every fact depends only on facts earlier
// (forward) or later (backward) in the order.
//
// Coupling: the operands and result of an add share one channel set (an operand must provide
// every channel the add keeps); a concat's channels are its operands' channels end to end; a
// depthwise conv ties input and output channels 1:1; a grouped conv keeps whole groups; flatten
// keeps every spatial position of a kept channel. Each op's part is its rule in channel_rules.ts;
// this file is the driver.
import { inputsOf } from '../ir/node.ts';
import { channelsOf, type Graph, type TensorType, type ValueId } from '../ir/types.ts';
import { linearTable, type LinearTable } from './channel_linear.ts';
import { channelRule, type BackwardContext, type ChannelConstants } from './channel_rules.ts';

export type { ChannelConstants } from './channel_rules.ts';

export interface ChannelFlow {
  readonly constants: ReadonlyMap<ValueId, ChannelConstants>;
  /** Channels the compact graph computes for each value, ascending. */
  readonly kept: ReadonlyMap<ValueId, readonly number[]>;
  /** For each node, for each operand, the operand channels it reads (ascending). */
  readonly reads: ReadonlyMap<ValueId, readonly (readonly number[])[]>;
  /** Add nodes: operand positions that are constant wherever the add keeps channels. */
  readonly constantOperands: ReadonlyMap<ValueId, ReadonlySet<number>>;
  /**
   * Channels that do not depend on the graph's inputs at all (constant or not): an output made
   * only of these means pruning cut every path from the input to it.
   */
  readonly independent: ReadonlyMap<ValueId, Uint8Array>;
  /** Linear tables of convs and dense layers (computed once, reused by the rewrite). */
  readonly tables: ReadonlyMap<ValueId, LinearTable>;
}

const indicesOf = (flags: Uint8Array) => {
  const out: number[] = [];
  for (let i = 0; i < flags.length; i++) if (flags[i] === 1) out.push(i);
  return out;
};

export function analyzeChannels(graph: Graph): ChannelFlow {
  const types = new Map(graph.nodes.map((n) => [n.id, n.type]));
  const tables = new Map<ValueId, LinearTable>();
  for (const n of graph.nodes) if (n.op === 'conv2d' || n.op === 'dense') tables.set(n.id, linearTable(graph.weights, n));
  const constants = new Map<ValueId, ChannelConstants>();
  const independent = new Map<ValueId, Uint8Array>();
  const need = new Map<ValueId, Uint8Array>(graph.nodes.map((n) => [n.id, new Uint8Array(channelsOf(n.type))]));
  const constantOperands = new Map<ValueId, ReadonlySet<number>>();
  const ctx: BackwardContext = {
    weights: graph.weights,
    typeOf: (v) => types.get(v) as TensorType,
    constantsOf: (v) => constants.get(v) as ChannelConstants,
    independentOf: (v) => independent.get(v) as Uint8Array,
    tableOf: (id) => tables.get(id) as LinearTable,
    needOf: (v) => need.get(v) as Uint8Array,
    constantOperands: (id, operands) => constantOperands.set(id, operands),
  };

  // Forward: constants and independence.
  for (const node of graph.nodes) {
    const rule = channelRule(node.op);
    constants.set(node.id, rule.constants(node, ctx));
    independent.set(node.id, rule.independence(node, ctx));
  }

  // Backward: need, kept and reads.
  for (const out of graph.outputs) need.get(out)?.fill(1);
  const kept = new Map<ValueId, readonly number[]>();
  const reads = new Map<ValueId, readonly (readonly number[])[]>();
  for (let idx = graph.nodes.length - 1; idx >= 0; idx--) {
    const node = graph.nodes[idx];
    const rule = channelRule(node.op);
    const needed = need.get(node.id) as Uint8Array;
    const operands = inputsOf(node);
    const keptFlags = rule.kept?.(node, needed, ctx) ?? needed;
    const keptChannels = indicesOf(keptFlags);
    kept.set(node.id, keptChannels);
    const operandReads =
      keptChannels.length === 0 ? operands.map((v) => new Uint8Array(channelsOf(ctx.typeOf(v)))) : rule.reads(node, keptFlags, ctx);
    operandReads.forEach((flags, i) => {
      const target = need.get(operands[i]) as Uint8Array;
      for (let c = 0; c < flags.length; c++) if (flags[c]) target[c] = 1;
    });
    reads.set(node.id, operandReads.map(indicesOf));
  }
  return { constants, independent, kept, reads, constantOperands, tables };
}
