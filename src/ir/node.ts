// Generic views of a node, derived from the node types and the op table (ops.ts): which values it
// reads, which weights it refers to, a way to rename its inputs, its output type and the shapes
// its weights must have.
import { isElementwiseOp } from './elementwise.ts';
import { opDef } from './ops.ts';
import {
  channelsOf,
  type Conv2dNode,
  type ElementwiseNode,
  type Graph,
  type Node,
  type TensorType,
  type ValueId,
  type WeightName,
} from './types.ts';

export { bnWeightNames, channelsOf } from './types.ts';

/** The values a node reads, in order: its `input`, or its `inputs` (none for graph inputs). */
export function inputsOf(node: Node): readonly ValueId[] {
  return 'inputs' in node ? node.inputs : 'input' in node ? [node.input] : [];
}

export function weightsOf(node: Node): readonly WeightName[] {
  return opDef(node.op)
    .weights(node)
    .filter((n): n is WeightName => n !== null);
}

/** The same node reading `rename(v)` instead of each input value v. */
export function withInputs<N extends Node>(node: N, rename: (v: ValueId) => ValueId): N {
  if ('inputs' in node) return { ...node, inputs: node.inputs.map(rename) };
  if ('input' in node) return { ...node, input: rename(node.input) };
  return node;
}

/** The output type of `node` given the types of its inputs (throws a GraphError naming it). */
export function inferType(node: Node, typeOf: (v: ValueId) => TensorType): TensorType {
  return opDef(node.op).infer(node, inputsOf(node).map(typeOf));
}

/** The shape each weight of `node` must have, given its input types. */
export function expectedWeightShapes(node: Node, typeOf: (v: ValueId) => TensorType): ReadonlyMap<WeightName, readonly number[]> {
  const def = opDef(node.op);
  const shapes = def.weightShapes(node, inputsOf(node).map(typeOf));
  const entries: [WeightName, readonly number[]][] = [];
  def.weights(node).forEach((name, i) => {
    if (name !== null) entries.push([name, shapes[i]]);
  });
  return new Map(entries);
}

/** Nodes by value id. */
export function nodeMap(graph: Graph): ReadonlyMap<ValueId, Node> {
  return new Map(graph.nodes.map((n) => [n.id, n]));
}

/** For each value, the nodes that read it (in graph order; a node reading twice appears twice). */
export function usersOf(graph: Graph): ReadonlyMap<ValueId, readonly Node[]> {
  const users = new Map<ValueId, Node[]>();
  for (const n of graph.nodes) users.set(n.id, []);
  for (const n of graph.nodes) for (const v of inputsOf(n)) users.get(v)?.push(n);
  return users;
}

/**
 * Whether a conv is depthwise: one input channel per group (groups = input channels > 1). Its
 * channel multiplier is output channels / input channels (tfjs's depthwise kernels take it).
 */
export const isDepthwise = (conv: Pick<Conv2dNode, 'groups'>, inputChannels: number): boolean =>
  conv.groups > 1 && conv.groups === inputChannels;

/**
 * Whether a conv maps each channel on its own: one group per input channel and as many outputs as
 * inputs (a depthwise conv with multiplier 1, or a conv of one channel to one).
 */
export const isChannelwise = (conv: Conv2dNode, inputChannels: number): boolean =>
  conv.groups === inputChannels && channelsOf(conv.type) === inputChannels;

/** Whether the node is of an elementwise op (elementwise.ts). */
export const isElementwise = (node: Node): node is ElementwiseNode => isElementwiseOp(node.op);

/** Values an output depends on (outputs included). */
export function liveValues(graph: Graph): ReadonlySet<ValueId> {
  const nodes = nodeMap(graph);
  const live = new Set<ValueId>();
  const pending = [...graph.outputs];
  while (pending.length > 0) {
    const v = pending.pop() as ValueId;
    if (live.has(v)) continue;
    live.add(v);
    const node = nodes.get(v);
    if (node) pending.push(...inputsOf(node));
  }
  return live;
}

export const graphInputs = (graph: Graph) => graph.nodes.filter((n) => n.op === 'input');
