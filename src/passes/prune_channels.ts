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
import { f32, type Graph, type TensorType, type ValueId } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';
import { analyzeChannels, type ChannelFlow } from './channel_flow.ts';
import type { LinearTable } from './channel_linear.ts';
import { channelRule, type ChannelConstants, type PruneContext } from './channel_rules.ts';
import { CompactGraphBuilder } from './compact_builder.ts';
import { findDisconnections, type Disconnection } from './disconnection.ts';

/** Pruning cut every path from the network's input to an output: the cuts, named. */
export class DisconnectedError extends SlimcError {
  override readonly name = 'DisconnectedError';
  constructor(
    readonly disconnections: readonly Disconnection[],
    /** What would fix it, when the caller knows (slimGraph tries fixes before it says them). */
    readonly fixes: readonly string[] = [],
    /** Appended as it is (a selection warning). */
    note = '',
  ) {
    const [first] = disconnections;
    const reasons = first.cuts.slice(0, 4).map((c) => c.reason);
    const more = first.cuts.length > 4 ? `; and ${first.cuts.length - 4} more cuts` : '';
    const outputs =
      disconnections.length > 1 ? ` (and ${disconnections.length - 1} more output${disconnections.length > 2 ? 's' : ''})` : '';
    const fixText = fixes.length > 0 ? `\nWhat works here:\n${fixes.map((f) => `  ${f}`).join('\n')}` : '';
    super(
      `after pruning, output %${first.output}${outputs} no longer depends on the network's input: ${reasons.join('; ')}${more}.${fixText}${note}`,
      first.cuts[0]?.layers[0] !== undefined ? `@${first.cuts[0].layers[0]}` : `%${first.output}`,
    );
  }

  /** The BN layers the cuts involve, in graph order, each once. */
  get layers(): string[] {
    return [...new Set(this.disconnections.flatMap((d) => d.cuts.flatMap((c) => c.layers)))];
  }
}

function checkOutputsStillDependOnInput(graph: Graph, flow: ChannelFlow): void {
  const disconnections = findDisconnections(graph, flow);
  if (disconnections.length > 0) throw new DisconnectedError(disconnections);
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
    const p: PruneContext = {
      ...common,
      kept,
      reads: flow.reads.get(node.id) ?? [],
      type: f32([...node.type.shape.slice(0, -1), kept.length]),
    };
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
