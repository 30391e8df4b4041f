// Property tests of pruning on random networks with random masks (including layers whose every
// channel is dropped): the compact graph computes the masked original's function, pruning it
// again changes nothing, and no conv or dense layer keeps an input channel it multiplies by zero.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { SlimcError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/types.ts';
import { initBackend, interpret } from '../../src/interp/index.ts';
import { maskChannels } from '../../src/passes/mask_channels.ts';
import { batchNorms, type ChannelMasks } from '../../src/passes/masks.ts';
import { pruneChannels } from '../../src/passes/prune_channels.ts';
import { Rng } from '../../src/util/random.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { expectGraphsEqual } from '../helpers/graphs.ts';
import { buildNetwork, recipeArb } from '../helpers/random_network.ts';

beforeAll(() => initBackend('wasm'));

/** Random masks: some layers lose everything, some keep everything, the rest a random subset. */
function randomMasks(graph: Graph, seed: number): ChannelMasks {
  const rng = new Rng(seed);
  const masks: Record<string, boolean[]> = {};
  for (const bn of batchNorms(graph)) {
    const c = bn.type.shape[bn.type.shape.length - 1];
    const mode = rng.uniform();
    const p = 0.2 + 0.7 * rng.uniform();
    masks[bn.params] = Array.from({ length: c }, () => (mode < 0.07 ? false : mode < 0.2 ? true : rng.uniform() < p));
  }
  return masks;
}

/** Input channels of full convs and dense layers whose weights are all zero. */
function zeroInputSlices(graph: Graph): string[] {
  const found: string[] = [];
  for (const n of graph.nodes) {
    if (!((n.op === 'conv2d' && n.groups === 1) || n.op === 'dense')) continue;
    const w = graph.weights[n.op === 'conv2d' ? n.filter : n.weight];
    const [cin, cout] = w.shape.slice(-2);
    // A layer reading a single channel with zero weights is how a layer whose inputs were all
    // folded into its bias keeps its shape: allowed.
    if (cin === 1) continue;
    for (let i = 0; i < cin; i++) {
      let zero = true;
      for (let p = 0; p < w.data.length / (cin * cout) && zero; p++) {
        for (let o = 0; o < cout; o++) if (w.data[(p * cin + i) * cout + o] !== 0) zero = false;
      }
      if (zero) found.push(`%${n.id} input channel ${i}`);
    }
  }
  return found;
}

const randomInput = (seed: number, n: number) => {
  const rng = new Rng(seed);
  return rng.fill(n * 6 * 6 * 3, () => rng.normal());
};

describe('pruning random networks', () => {
  it('keeps the masked function, is idempotent and leaves no zero input slice', async () => {
    let pruned = 0;
    let cut = 0;
    await fc.assert(
      fc.asyncProperty(recipeArb, fc.integer({ min: 1, max: 1_000_000 }), async (recipe, maskSeed) => {
        const graph = withSparsityLikeWeights(buildNetwork(recipe), { seed: recipe.seed });
        const masked = maskChannels(graph, randomMasks(graph, maskSeed));
        let compact: Graph;
        try {
          compact = pruneChannels(masked);
        } catch (e) {
          if (!(e instanceof SlimcError) || !/no longer depends on the network's input/.test(e.message)) throw e;
          // The error must be true: the masked network gives the same output for any input.
          const [a] = await interpret(masked, randomInput(1, 2));
          const [b] = await interpret(masked, randomInput(2, 2));
          expect(compareOutputs(a, b, 1e-5).ok).toBe(true);
          cut++;
          return;
        }
        pruned++;
        const x = randomInput(maskSeed, 2);
        const [reference] = await interpret(masked, x);
        const [actual] = await interpret(compact, x);
        const cmp = compareOutputs(reference, actual);
        expect(cmp.ok, `max |diff| ${cmp.maxAbsDiff} > ${cmp.tolerance}`).toBe(true);
        expectGraphsEqual(pruneChannels(compact), compact);
        expect(zeroInputSlices(compact)).toEqual([]);
      }),
      { numRuns: 120, seed: 20261128 },
    );
    // Both outcomes must actually be exercised.
    expect(pruned).toBeGreaterThan(50);
    expect(cut).toBeGreaterThan(0);
  });
});
