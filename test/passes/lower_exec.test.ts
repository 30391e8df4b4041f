// Each lowering pass preserves the function: the interpreter before and after every pass gives
// the same outputs (within the float32 tolerance of the slimming contract), on the zoo-shaped
// nets, their pruned (compact) versions, and random networks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { graphInputs } from '../../src/ir/node.ts';
import type { Graph } from '../../src/ir/types.ts';
import { verify } from '../../src/ir/verify.ts';
import { interpret } from '../../src/interp/index.ts';
import { LOWERING_PASSES } from '../../src/passes/lower/index.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { Rng } from '../../src/util/random.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { buildNetwork, recipeArb } from '../helpers/random_network.ts';
import { SMALL_NETS } from '../codegen/nets.ts';

function randomInput(graph: Graph, batch: number, seed: number): Float32Array {
  const [input] = graphInputs(graph);
  const rng = new Rng(seed);
  const size = batch * input.type.shape.slice(1).reduce((a, b) => a * b, 1);
  return rng.fill(size, () => rng.normal());
}

/** Runs every pass in turn and checks each result against the graph before it. */
async function expectPassesPreserve(graph: Graph, batch: number): Promise<void> {
  const x = randomInput(graph, batch, batch);
  const reference = await interpret(graph, x);
  let current = graph;
  for (const pass of LOWERING_PASSES) {
    current = verify(pass.run(current));
    const outputs = await interpret(current, x);
    outputs.forEach((out, i) => {
      const c = compareOutputs(reference[i], out);
      expect(c.ok, `${graph.name} after ${pass.name}, output ${i}: max diff ${c.maxAbsDiff} > ${c.tolerance}`).toBe(true);
    });
  }
}

describe.each(Object.keys(SMALL_NETS))('%s', (name) => {
  const graph = SMALL_NETS[name]();
  it.each([1, 3])('every lowering pass preserves the function (batch %i)', async (batch) => {
    await expectPassesPreserve(graph, batch);
  });
  it('and on the compact graph pruned at ratio 0.4', async () => {
    await expectPassesPreserve(slimGraph(graph, { ratio: 0.4 }).compact, 1);
  });
});

describe('random networks', () => {
  it('every lowering pass preserves the function', async () => {
    await fc.assert(
      fc.asyncProperty(recipeArb, async (recipe) => {
        await expectPassesPreserve(withSparsityLikeWeights(buildNetwork(recipe), { seed: recipe.seed }), 2);
      }),
      { numRuns: 12, seed: 20261128 },
    );
  });
});
