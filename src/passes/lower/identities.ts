// Lowering: nodes that compute their input unchanged are dropped and their readers read the
// input directly (a channel selection left behind by pruning that keeps every channel in
// order, a concat of one value, a scale_shift with neither weight).
import { channelsOf } from '../../ir/node.ts';
import type { Graph } from '../../ir/types.ts';
import { rewriteToFixpoint, type AnyPeepholeRule } from './rewrite.ts';

export const IDENTITY_RULES: readonly AnyPeepholeRule[] = [
  {
    name: 'drop-full-gather',
    // gather(x, [0, 1, ..., C-1]) = x when x has C channels
    algebra: 'gather(x; 0..C-1) = x',
    root: 'gather',
    apply: (root, ctx) => {
      const input = ctx.producer(root.input);
      const channels = input ? channelsOf(input.type.shape) : -1;
      const inOrder = root.indices.length === channels && root.indices.every((c, i) => c === i);
      return inOrder ? { forward: root.input } : null;
    },
  },
  {
    name: 'drop-single-concat',
    // concat(x) = x
    algebra: 'concat(x) = x',
    root: 'concat',
    apply: (root) => (root.inputs.length === 1 ? { forward: root.inputs[0] } : null),
  },
  {
    name: 'drop-empty-scale-shift',
    // x * 1 + 0 = x
    algebra: 'scale_shift(x; none, none) = x',
    root: 'scale_shift',
    apply: (root) => (root.scale === null && root.shift === null ? { forward: root.input } : null),
  },
];

export function removeIdentities(graph: Graph): Graph {
  return rewriteToFixpoint(graph, IDENTITY_RULES);
}
