// Seeded weights that look sparsity-trained, for tests and benchmarks of the slimming passes
// when no trained model is at hand.
//
// What sparsity training (L1 on gamma) leaves behind, and what this generator reproduces:
// - in each BN layer a fraction of |gamma| near zero (uniform in [0, 1e-3)), the rest spread
//   around 0.5 (|N(0.5, 0.25)| + 0.05); deeper layers are sparser: the near-zero fraction grows
//   linearly from `shallowSparsity` at the first BN to `deepSparsity` at the last;
// - non-trivial beta (N(0, 0.1)) and running statistics (mean N(0, 0.1), var U(0.5, 1.5));
// - conv weights are left as they are (He init); dense weights are redrawn with std
//   1/sqrt(inputs), so that outputs are of order 1 and comparisons against them are meaningful.
// Every BN keeps at least one large gamma, so moderate ratios leave every layer alive.
import { produce, castDraft } from 'immer';
import { bnWeightNames } from '../../src/ir/node.ts';
import type { Graph, Weight } from '../../src/ir/types.ts';
import { Rng } from '../../src/util/random.ts';

export interface SparsityLikeOptions {
  readonly seed?: number;
  readonly shallowSparsity?: number;
  readonly deepSparsity?: number;
}

export function withSparsityLikeWeights(graph: Graph, opts: SparsityLikeOptions = {}): Graph {
  const rng = new Rng(opts.seed ?? 7);
  const shallow = opts.shallowSparsity ?? 0.2;
  const deep = opts.deepSparsity ?? 0.7;
  const bns = graph.nodes.filter((n) => n.op === 'batch_norm');
  const vector = (n: number, sample: (c: number) => number): Weight => ({
    shape: [n],
    data: Float32Array.from({ length: n }, (_, c) => sample(c)),
  });
  return produce(graph, (draft) => {
    for (const n of graph.nodes) {
      if (n.op !== 'dense') continue;
      const w = graph.weights[n.weight];
      const std = 1 / Math.sqrt(w.shape[0]);
      draft.weights[n.weight] = castDraft({ shape: w.shape, data: rng.fill(w.data.length, () => std * rng.normal()) });
    }
    bns.forEach((bn, layer) => {
      const c = bn.type.shape[bn.type.shape.length - 1];
      const sparsity = bns.length === 1 ? deep : shallow + ((deep - shallow) * layer) / (bns.length - 1);
      const strong = rng.int(0, c - 1);
      const names = bnWeightNames(bn.params);
      draft.weights[names.gamma] = castDraft(
        vector(c, (ch) => {
          const sign = rng.uniform() < 0.1 ? -1 : 1;
          const small = ch !== strong && rng.uniform() < sparsity;
          return sign * (small ? rng.uniform() * 1e-3 : Math.abs(0.5 + 0.25 * rng.normal()) + 0.05);
        }),
      );
      draft.weights[names.beta] = castDraft(vector(c, () => 0.1 * rng.normal()));
      draft.weights[names.mean] = castDraft(vector(c, () => 0.1 * rng.normal()));
      draft.weights[names.variance] = castDraft(vector(c, () => 0.5 + rng.uniform()));
    });
  });
}
