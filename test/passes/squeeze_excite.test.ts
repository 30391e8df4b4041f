// Squeeze-excite in the channel flow: the gate's mul couples the block's features with the
// expand conv's outputs; a pruned feature channel (zero whatever the gate) leaves the mul and the
// expand conv exactly; the squeeze conv (no BN) keeps its width; a gate constant on the kept
// channels folds into a multiply-add. The compact graphs compute the masked originals.
import { beforeAll, describe, expect, it } from 'vitest';
import efficientnetSmall from '../../examples/efficientnet_small.ts';
import { batchNorm, conv2d, dense, depthwiseConv2d, flatten, globalAvgPool, model, mul, sigmoid, silu } from '../../src/frontends/dsl.ts';
import { initBackend, interpret } from '../../src/interp/index.ts';
import { channelsOf, nodeMap } from '../../src/ir/node.ts';
import type { Graph, NodeOf } from '../../src/ir/types.ts';
import { keptCount } from '../../src/passes/masks.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { Rng } from '../../src/util/random.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';

beforeAll(() => initBackend('wasm'));

const muls = (g: Graph) => g.nodes.filter((n): n is NodeOf<'mul'> => n.op === 'mul');

async function expectMaskedFunction(masked: Graph, compact: Graph, shape: readonly number[]): Promise<void> {
  const rng = new Rng(3);
  const x = rng.fill(2 * shape.reduce((a, b) => a * b, 1), () => rng.normal());
  const [reference] = await interpret(masked, x);
  const [actual] = await interpret(compact, x);
  const cmp = compareOutputs(reference, actual);
  expect(cmp.ok, `max |diff| ${cmp.maxAbsDiff} > ${cmp.tolerance}`).toBe(true);
}

describe('squeeze-excite blocks under pruning', () => {
  it('EfficientNet-style at 0.5: each gate mul, its expand conv and the depthwise BN keep the same channels; squeeze convs keep their width', async () => {
    const graph = withSparsityLikeWeights(efficientnetSmall(), { seed: 4 });
    const { masked, compact, masks } = slimGraph(graph, { ratio: 0.5 });
    const before = nodeMap(graph);
    const after = nodeMap(compact);
    expect(muls(compact)).toHaveLength(muls(graph).length);
    for (const mul of muls(graph)) {
      // mul(features, sigmoid(expand(silu(squeeze(pool(features)))))): features come from a silu of a BN.
      const features = before.get(
        before.get(mul.inputs[0])?.op === 'silu' ? (before.get(mul.inputs[0]) as NodeOf<'silu'>).input : '',
      ) as NodeOf<'batch_norm'>;
      const expand = before.get((before.get(mul.inputs[1]) as NodeOf<'sigmoid'>).input) as NodeOf<'conv2d'>;
      const squeeze = before.get((before.get(expand.input) as NodeOf<'silu'>).input) as NodeOf<'conv2d'>;
      const kept = keptCount(masks[features.params]);
      expect(kept).toBeLessThan(channelsOf(features.type));
      expect(channelsOf((after.get(mul.id) as NodeOf<'mul'>).type)).toBe(kept);
      expect(channelsOf((after.get(expand.id) as NodeOf<'conv2d'>).type)).toBe(kept);
      expect(channelsOf((after.get(squeeze.id) as NodeOf<'conv2d'>).type)).toBe(channelsOf(squeeze.type));
    }
    await expectMaskedFunction(masked, compact, [32, 32, 3]);
  });

  it('a gate that is constant on the kept channels (its pooled features all pruned) folds into a multiply-add', async () => {
    // The gate is computed from the pooled output of bn_se, whose channels all go; the gated
    // features come from bn_out, which keeps some.
    const base = model('se_constant_gate', { input: [6, 6, 3] }, (x) => {
      const main = silu(batchNorm(conv2d(x, 4), { name: 'bn_main' }));
      const side = silu(batchNorm(depthwiseConv2d(main), { name: 'bn_se' }));
      const gate = sigmoid(conv2d(silu(conv2d(globalAvgPool(side), 2, { kernel: 1, bias: true })), 4, { kernel: 1, bias: true }));
      const out = batchNorm(conv2d(main, 4, { kernel: 1 }), { name: 'bn_out' });
      return dense(flatten(globalAvgPool(mul(out, gate, 'gate_main'))), 3);
    });
    const graph = withSparsityLikeWeights(base, { seed: 2 });
    const masks = { bn_main: [true, true, false, true], bn_se: [false, false, false, false], bn_out: [true, false, true, true] };
    const { masked, compact } = slimGraph(graph, { ratio: 0, masks });
    // Pruning the gate's own input leaves the gate a constant: no mul reads a computed gate.
    expect(muls(compact).map((m) => m.id)).not.toContain('gate_main');
    expect(compact.nodes.find((n) => n.id === 'gate_main')?.op).toBe('scale_shift');
    await expectMaskedFunction(masked, compact, [6, 6, 3]);
  });
});
