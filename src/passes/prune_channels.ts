// Pruning: rewrite a masked graph into the compact graph that computes the same function with
// only the channels the channel dataflow analysis keeps.
//
// - Every kept node computes exactly its kept channels, in ascending order; its weights are
//   sliced on both channel axes (new arrays; the masked graph is not touched).
// - Constant input channels that a conv or dense layer does not read are folded into its bias:
//   bias'[o] = bias[o] + sum_i k_i * sum_{kh,kw} w[kh,kw,i,o].
// - A consumer that reads fewer channels than its producer keeps for others (a pre-activation BN
//   on a residual stream, a DenseNet layer's BN on the concatenation) reads through a gather
//   (the paper's channel-selection layer); consumers reading the same subset share it.
// - An add operand that is constant on all kept channels is dropped and its constant becomes a
//   scale_shift on the result: a dead residual branch leaves its block as the identity (shift 0)
//   or a bias add. An add or concat left with one operand disappears.
// - Nodes with no kept channel are dead and vanish.
// Each op's part is its rule in channel_rules.ts; this file is the driver.
import { SlimcError } from '../ir/errors.ts';
import { inputsOf } from '../ir/node.ts';
import { f32, type Graph, type Node, type TensorType, type ValueId } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';
import { analyzeChannels, type ChannelFlow } from './channel_flow.ts';
import type { LinearTable } from './channel_linear.ts';
import { channelRule, type ChannelConstants, type PruneContext } from './channel_rules.ts';
import { CompactGraphBuilder } from './compact_builder.ts';

/** Names the fully pruned BatchNorms among the ancestors of `id`. */
function deadLayersAbove(graph: Graph, flow: ChannelFlow, id: ValueId): string[] {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const seen = new Set<ValueId>();
  const stack = [id];
  const dead: string[] = [];
  while (stack.length > 0) {
    const v = stack.pop() as ValueId;
    if (seen.has(v)) continue;
    seen.add(v);
    const n = nodes.get(v) as Node;
    if (n.op === 'batch_norm' && (flow.constants.get(v) ?? []).every((k) => k === 0)) dead.push(n.params);
    stack.push(...inputsOf(n));
  }
  return dead.reverse();
}

function checkOutputsStillDependOnInput(graph: Graph, flow: ChannelFlow): void {
  for (const out of graph.outputs) {
    const independent = flow.independent.get(out) as Uint8Array;
    if (independent.length > 0 && independent.every((f) => f === 1)) {
      const dead = deadLayersAbove(graph, flow, out);
      const names = dead.slice(0, 5).map((d) => `"${d}"`).join(', ') + (dead.length > 5 ? ` and ${dead.length - 5} more` : '');
      throw new SlimcError(
        `after pruning, output %${out} no longer depends on the network's input: every channel of ${dead.length > 0 ? names : 'some layer'} is dropped, cutting every path to the output. Lower the ratio, keep a minimum per layer (--min-channels 1), or exclude ${dead.length > 1 ? 'these layers' : 'this layer'}.`,
        dead.length > 0 ? `@${dead[0]}` : `%${out}`,
      );
    }
  }
}

/** Prunes a masked graph (see maskChannels) to its compact form. */
export function pruneChannels(masked: Graph, flow: ChannelFlow = analyzeChannels(masked)): Graph {
  checkOutputsStillDependOnInput(masked, flow);
  const builder = new CompactGraphBuilder(masked, flow);
  const types = new Map(masked.nodes.map((n) => [n.id, n.type]));
  const common = {
    builder,
    weights: masked.weights,
    typeOf: (v: ValueId) => types.get(v) as TensorType,
    constantsOf: (v: ValueId) => flow.constants.get(v) as ChannelConstants,
    tableOf: (id: ValueId) => flow.tables.get(id) as LinearTable,
    constantOperands: (id: ValueId) => flow.constantOperands.get(id) ?? new Set<number>(),
  };
  for (const node of masked.nodes) {
    const kept = builder.kept(node.id);
    if (kept.length === 0) continue;
    const p: PruneContext = { ...common, kept, reads: flow.reads.get(node.id) ?? [], type: f32([...node.type.shape.slice(0, -1), kept.length]) };
    const result = channelRule(node.op).prune(node, p);
    builder.compactValue.set(node.id, typeof result === 'string' ? result : builder.append(result));
  }

  const compact: Graph = {
    name: masked.name,
    nodes: builder.nodes,
    outputs: masked.outputs.map((v) => builder.compactValue.get(v) as ValueId),
    weights: builder.weights,
    // Pruning changes no border: an ONNX model's compact graph still takes NCHW.
    ...(masked.layout ? { layout: masked.layout } : {}),
  };
  return verify(compact);
}
