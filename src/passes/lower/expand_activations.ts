// Lowering: the activations tfjs-backend-wasm has no kernel for, written with ops it has, so that
// the emitted plan runs them as kernel calls (Sigmoid, Multiply, 1x1 depthwise convs):
//   silu(x)         = mul(x, sigmoid(x))
//   hard_sigmoid(x) = scale_shift(relu6(scale_shift(x; scale 1, shift 3)); scale 1/6)
//   hard_swish(x)   = mul(x, hard_sigmoid(x))
// Later passes run the multiply-adds as depthwise convs with the relu6 fused, and fuse a sigmoid
// into the conv before it. The final node keeps the original value's name; the ones it adds are
// named after it.
import { freshName } from '../../ir/fresh_name.ts';
import type { ElementwiseNode, Graph, Node, ValueId, Weight, WeightName } from '../../ir/types.ts';

export function expandActivations(graph: Graph): Graph {
  if (!graph.nodes.some((n) => n.op === 'silu' || n.op === 'hard_sigmoid' || n.op === 'hard_swish')) return graph;
  const ids = new Set(graph.nodes.map((n) => n.id));
  const weights: Record<WeightName, Weight> = { ...graph.weights };
  const nodes: Node[] = [];
  const freshId = (base: string) => {
    const id = freshName(base, (name) => ids.has(name));
    ids.add(id);
    return id;
  };
  const vector = (base: string, channels: number, value: number) => {
    const name = freshName(base, (w) => Object.hasOwn(weights, w));
    weights[name] = { shape: [channels], data: new Float32Array(channels).fill(value) };
    return name;
  };
  /** hard_sigmoid of `input` into value `id`; the nodes it needs are pushed. */
  const hardSigmoid = (id: ValueId, input: ValueId, like: ElementwiseNode): void => {
    const channels = like.type.shape[like.type.shape.length - 1];
    const shifted = freshId(`${id}.plus3`);
    const clipped = freshId(`${id}.relu6`);
    // A unit scale as well: the plan runs a rank-2 multiply-add as a depthwise conv, which needs one.
    nodes.push({
      op: 'scale_shift',
      id: shifted,
      type: like.type,
      input,
      scale: vector(`${id}.one`, channels, 1),
      shift: vector(`${id}.three`, channels, 3),
    });
    nodes.push({ op: 'relu6', id: clipped, type: like.type, input: shifted });
    nodes.push({ op: 'scale_shift', id, type: like.type, input: clipped, scale: vector(`${id}.sixth`, channels, 1 / 6), shift: null });
  };
  for (const node of graph.nodes) {
    if (node.op === 'silu') {
      const gate = freshId(`${node.id}.sigmoid`);
      nodes.push({ op: 'sigmoid', id: gate, type: node.type, input: node.input });
      nodes.push({ op: 'mul', id: node.id, type: node.type, inputs: [node.input, gate] });
    } else if (node.op === 'hard_sigmoid') {
      hardSigmoid(node.id, node.input, node);
    } else if (node.op === 'hard_swish') {
      const gate = freshId(`${node.id}.hard_sigmoid`);
      hardSigmoid(gate, node.input, node);
      nodes.push({ op: 'mul', id: node.id, type: node.type, inputs: [node.input, gate] });
    } else nodes.push(node);
  }
  return { ...graph, nodes, weights };
}
