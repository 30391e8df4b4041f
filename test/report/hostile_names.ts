// A network whose names are markup: what an untrusted model could carry into report.html.
import { bnWeightNames, withInputs } from '../../src/ir/node.ts';
import type { Graph, Node, Weight } from '../../src/ir/types.ts';

export const HOSTILE = {
  graph: '<img src=x onerror="window.__pwned=1">net',
  bn: '<script>window.__pwned=1</script>',
  node: 'c"onmouseover="window.__pwned=1',
} as const;

/** `graph` with its name, its first BN's name and its first conv's value name replaced by markup. */
export function withHostileNames(graph: Graph): Graph {
  const bn = graph.nodes.find((n) => n.op === 'batch_norm');
  const conv = graph.nodes.find((n) => n.op === 'conv2d');
  if (!bn || bn.op !== 'batch_norm' || !conv) throw new Error('the graph needs a conv and a BN');
  const from = bnWeightNames(bn.params);
  const to = bnWeightNames(HOSTILE.bn);
  const weights: Record<string, Weight> = {};
  for (const [name, w] of Object.entries(graph.weights)) {
    const key = (Object.keys(from) as (keyof typeof from)[]).find((k) => from[k] === name);
    weights[key ? to[key] : name] = w;
  }
  const rename = (v: string) => (v === conv.id ? HOSTILE.node : v);
  const nodes = graph.nodes.map((n): Node => {
    const renamed = withInputs(n, rename);
    const id = rename(n.id);
    return n === bn ? { ...(renamed as typeof bn), id, params: HOSTILE.bn } : { ...renamed, id };
  });
  return { ...graph, name: HOSTILE.graph, nodes, weights, outputs: graph.outputs.map(rename) };
}
