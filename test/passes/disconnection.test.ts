// When pruning cuts every path from the input to the output, the error names the layers and the
// reason, and suggests only fixes that were tried and work. Pure: no backend.
import { describe, expect, it } from 'vitest';
import { batchNorm, conv2d, dense, depthwiseConv2d, flatten, globalAvgPool, model, relu6 } from '../../src/frontends/dsl.ts';
import type { Graph, Weight } from '../../src/ir/types.ts';
import { DisconnectedError } from '../../src/passes/prune_channels.ts';
import { slimGraph } from '../../src/passes/slim.ts';

/**
 * The start of MobileNetV2 (stem conv-BN-ReLU6, depthwise conv-BN-ReLU6, projection conv-BN,
 * a 1x1 head conv-BN-ReLU6), with gammas as a sparsity-trained MobileNetV2 pruned at 0.9 sees
 * them: the stem BN keeps channels 0-3 of 32, the depthwise BN keeps channels 4-6 of 32. No
 * layer loses all its channels, yet nothing passes the depthwise conv.
 */
function mobileNetV2Start(): Graph {
  const base = model('mobilenetv2_start', { input: [8, 8, 3] }, (x) => {
    let h = relu6(batchNorm(conv2d(x, 32, { stride: 2 }), { name: 'features.0.1' }));
    h = relu6(batchNorm(depthwiseConv2d(h, { name: 'features.1.conv.0.0' }), { name: 'features.1.conv.0.1' }));
    h = batchNorm(conv2d(h, 16, { kernel: 1 }), { name: 'features.1.conv.2' });
    h = relu6(batchNorm(conv2d(h, 32, { kernel: 1 }), { name: 'features.2.1' }));
    return dense(flatten(globalAvgPool(h)), 10, { name: 'classifier' });
  });
  const gammas = (n: number, large: readonly number[], seed: number): Weight => ({
    shape: [n],
    data: Float32Array.from({ length: n }, (_, c) => (large.includes(c) ? 1 + c / 100 : 0.0001 + (seed * 32 + c) * 1e-5)),
  });
  return {
    ...base,
    weights: {
      ...base.weights,
      'features.0.1.gamma': gammas(32, [0, 1, 2, 3], 1),
      'features.1.conv.0.1.gamma': gammas(32, [4, 5, 6], 2),
      'features.1.conv.2.gamma': gammas(16, [0, 1], 3),
      'features.2.1.gamma': gammas(32, [0, 1], 4),
    },
  };
}

function disconnectedError(graph: Graph, opts: Parameters<typeof slimGraph>[1]): DisconnectedError {
  try {
    slimGraph(graph, opts);
  } catch (e) {
    if (e instanceof DisconnectedError) return e;
    throw e;
  }
  throw new Error('pruning succeeded');
}

describe('pruning that leaves no path from the input to the output', () => {
  const graph = mobileNetV2Start();

  it('MobileNetV2 at 0.9: names both layers whose kept sets are disjoint through the depthwise conv', () => {
    const e = disconnectedError(graph, { ratio: 0.9 });
    expect(e.layers).toEqual(['features.0.1', 'features.1.conv.0.1']);
    expect(e.message).toMatch(/^@features\.0\.1: after pruning, output %\S+ no longer depends on the network's input/);
    expect(e.message).toContain(
      'BN "features.0.1" keeps channels 0, 1, 2, 3, through the depthwise conv %features.1.conv.0.0 (channels tied 1:1)',
    );
    expect(e.message).toContain('BN "features.1.conv.0.1" keeps channels 4, 5, 6 of 32: the kept sets are disjoint, so nothing passes');
    // No layer is empty, so keeping a minimum per layer is not offered: it would not help.
    expect(e.message).not.toContain('--min-channels');
    expect(() => slimGraph(graph, { ratio: 0.9, minChannels: 1 })).toThrow(DisconnectedError);
  });

  it('suggests excluding either layer and a lower ratio, each of which works', () => {
    const e = disconnectedError(graph, { ratio: 0.9 });
    expect(e.message).toContain('--exclude features.0.1');
    expect(e.message).toContain('--exclude features.1.conv.0.1');
    const ratio = Number(/ratio (\d\.\d+) keeps a path/.exec(e.message)?.[1]);
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThan(0.9);
    for (const works of [{ ratio: 0.9, exclude: ['features.0.1'] }, { ratio: 0.9, exclude: ['features.1.conv.0.1'] }, { ratio }]) {
      expect(slimGraph(graph, works).compact.nodes.length).toBeGreaterThan(0);
    }
  });

  it('an emptied layer is named as such, and keeping one channel per layer is offered when it works', () => {
    const masks = { 'features.1.conv.2': new Array<boolean>(16).fill(false) };
    const e = disconnectedError(graph, { ratio: 0, masks });
    expect(e.layers).toEqual(['features.1.conv.2']);
    expect(e.message).toContain('every channel of BN "features.1.conv.2" is dropped');
    // A ranked selection that empties the projection BN: only its channels are tiny.
    const spread = (n: number, from: number, step: number): Weight => ({
      shape: [n],
      data: Float32Array.from({ length: n }, (_, c) => from + c * step),
    });
    const weights = {
      ...graph.weights,
      'features.0.1.gamma': spread(32, 1, 0.01),
      'features.1.conv.0.1.gamma': spread(32, 1, 0.01),
      'features.1.conv.2.gamma': spread(16, 1e-5, 1e-6),
    };
    const emptied = { ...graph, weights };
    const ranked = disconnectedError(emptied, { ratio: 0.15 });
    expect(ranked.message).toContain('every channel of BN "features.1.conv.2" is dropped');
    expect(ranked.message).toContain('(--min-channels 1)');
    expect(slimGraph(emptied, { ratio: 0.15, minChannels: 1 }).compact.nodes.length).toBeGreaterThan(0);
  });
});
