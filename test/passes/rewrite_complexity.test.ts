// Complexity guard of the lowering passes (in the manner of TVM's DCE scaling test): the work the
// rewrite driver does per node stays bounded as the graph grows from 2,500 to 10,000 nodes. Work is
// counted (worklist visits and rule applications), not timed, so the test cannot flake; the
// benchmark (`npm run bench:slimming`) prints the times.
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/ir/verify.ts';
import type { Graph } from '../../src/ir/types.ts';
import {
  FOLD_BATCH_NORM_RULES,
  FOLD_CHANNEL_SELECTION_RULES,
  FUSE_ACTIVATION_RULES,
  IDENTITY_RULES,
  SCALE_SHIFT_RULES,
  SCALE_SHIFT_TO_DEPTHWISE_RULES,
  eliminateDeadCode,
  rewriteToFixpoint,
  type AnyPeepholeRule,
  type RewriteStats,
} from '../../src/passes/lower/index.ts';
import { longNetwork } from '../helpers/long_network.ts';

const TABLES: [string, readonly AnyPeepholeRule[]][] = [
  ['remove-identities', IDENTITY_RULES],
  ['fold-batch-norm', FOLD_BATCH_NORM_RULES],
  ['bn-to-scale-shift', SCALE_SHIFT_RULES],
  ['scale-shift-to-depthwise', SCALE_SHIFT_TO_DEPTHWISE_RULES],
  ['fuse-activations', FUSE_ACTIVATION_RULES],
  ['fold-channel-selections', FOLD_CHANNEL_SELECTION_RULES],
];

/** Work per node of each rule table, applied in lowering order. */
function workPerNode(graph: Graph): { perNode: Record<string, number>; rewrites: number; lowered: Graph } {
  const perNode: Record<string, number> = {};
  let rewrites = 0;
  let g = eliminateDeadCode(graph);
  for (const [name, rules] of TABLES) {
    const size = g.nodes.length;
    let stats: RewriteStats = { visits: 0, attempts: 0, rewrites: 0 };
    g = rewriteToFixpoint(g, rules, { stats: (s) => (stats = s) });
    perNode[name] = (stats.visits + stats.attempts) / size;
    rewrites += stats.rewrites;
  }
  return { perNode, rewrites, lowered: g };
}

describe('lowering work grows linearly with the graph', () => {
  it('visits each node a bounded number of times, on 2,500 and on 10,000 nodes', () => {
    const small = workPerNode(longNetwork(2500));
    const large = workPerNode(longNetwork(10_000));
    // The large graph really is rewritten: thousands of BNs fold, turn into depthwise convs, fuse.
    expect(large.rewrites).toBeGreaterThan(5000);
    verify(large.lowered);
    for (const [name] of TABLES) {
      // A restart from node 0 after each rewrite would make this grow with the graph (~1,000x here).
      expect(large.perNode[name], name).toBeLessThan(8);
      expect(large.perNode[name], name).toBeLessThan(small.perNode[name] * 1.2 + 0.1);
    }
  });
});
