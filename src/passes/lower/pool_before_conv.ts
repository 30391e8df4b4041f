// Lowering: an average pool after a 1x1 conv runs before it instead, so the conv runs on the
// pooled pixels. Both are linear per pixel and the pool mixes pixels while the conv mixes
// channels, so they commute:
//   avg_pool(conv1x1(x; W, b)) = conv1x1(avg_pool(x); W, b)
// (each pooled output is a mean of conv outputs, sum_i (x_i W + b) / n = (sum_i x_i / n) W + b).
// A DenseNet transition is BN-ReLU-conv1x1-avgpool(2x2, stride 2): its conv then does a quarter
// of the MACs. The identity needs no activation fused into the conv, and a padded position must
// not count in a mean unless the conv has no bias: padding is 0 in x but would be b in conv(x).
import { channelsOf, usersOf, withInputs } from '../../ir/node.ts';
import { padAmounts } from '../../ir/shapes.ts';
import type { AvgPoolNode, Conv2dNode, Graph, Node, Padding, Pair, ValueId } from '../../ir/types.ts';

/** Whether a window op over `input` (NHWC) pads nothing, as the executors work out its padding. */
function unpadded(input: readonly number[], kernel: Pair, strides: Pair, padding: Padding): boolean {
  const [h, w] = [input[1], input[2]];
  const amounts = [padAmounts(h, kernel[0], strides[0], 1, padding, 'h'), padAmounts(w, kernel[1], strides[1], 1, padding, 'w')];
  return amounts.every(([before, after]) => before === 0 && after === 0);
}

/** Whether `conv` is a pointwise linear map of each pixel alone (a 1x1 conv with no activation). */
function isPointwiseLinear(conv: Conv2dNode): boolean {
  const [kh, kw] = conv.kernel;
  const [sh, sw] = conv.strides;
  const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && conv.groups === 1;
  return pointwise && conv.activation === 'none' && unpadded(conv.type.shape, conv.kernel, conv.strides, conv.padding);
}

/**
 * Every avg_pool whose input is a pointwise linear conv read by nothing else (and not a graph
 * output) is swapped with it, unless the pool counts padded positions and the conv has a bias.
 * The pool keeps its name and now averages the conv's input; the conv keeps its name and weights,
 * runs on the pool's output and takes the pool's readers. Weights do not change.
 */
export function poolBeforeConv(graph: Graph): Graph {
  const users = usersOf(graph);
  const outputs = new Set(graph.outputs);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  /** The conv before each pool that swaps with it. */
  const swaps = new Map<ValueId, { pool: AvgPoolNode; conv: Conv2dNode }>();
  for (const n of graph.nodes) {
    if (n.op !== 'avg_pool' || outputs.has(n.id)) continue;
    const conv = byId.get(n.input);
    if (conv?.op !== 'conv2d' || !isPointwiseLinear(conv) || outputs.has(conv.id) || users.get(conv.id)?.length !== 1) continue;
    const padsCounted = n.countIncludePad && !unpadded(conv.type.shape, n.kernel, n.strides, n.padding);
    if (padsCounted && conv.bias !== null) continue;
    swaps.set(conv.id, { pool: n, conv });
  }
  if (swaps.size === 0) return graph;
  const swappedPools = new Map([...swaps.values()].map(({ pool, conv }) => [pool.id, conv.id]));
  // The pool's old readers read the conv's value, which now holds what the pool computed.
  const rename = (v: ValueId): ValueId => swappedPools.get(v) ?? v;
  const nodes: Node[] = [];
  for (const n of graph.nodes) {
    const swap = swaps.get(n.id);
    if (swap !== undefined) {
      // The pool goes where the conv was (its input is defined by then); its channels are the conv's input's.
      const { pool, conv } = swap;
      const cin = channelsOf((byId.get(conv.input) as Node).type.shape);
      const [batch, ho, wo] = pool.type.shape;
      nodes.push({ ...pool, input: conv.input, type: { ...pool.type, shape: [batch, ho, wo, cin] } });
    } else if (swappedPools.has(n.id)) {
      const { pool, conv } = swaps.get(swappedPools.get(n.id) as ValueId) as { pool: AvgPoolNode; conv: Conv2dNode };
      nodes.push({ ...conv, input: pool.id, type: pool.type });
    } else {
      nodes.push(withInputs(n, rename));
    }
  }
  return { ...graph, nodes };
}
