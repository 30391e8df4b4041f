// The small graphs whose emitted code is kept as baselines in test/golden/codegen/ (no vitest
// import: test/golden/codegen/update.ts regenerates the baselines from them).
import { add, batchNorm, bnReluConv, conv2d, dense, depthwiseConv2d, flatten, globalAvgPool, maxPool, model, relu, relu6, softmax } from '../../src/frontends/dsl.ts';
import type { Graph } from '../../src/ir/types.ts';
import { allOpsGraph } from '../helpers/all_ops_graph.ts';

/** A stem, one pre-activation residual block, a depthwise-separable block, a softmax head. */
export function preactSeparable(): Graph {
  return model('preact-separable', { input: [8, 8, 3] }, (x) => {
    const stem = conv2d(x, 8, { name: 'stem' });
    const block = add(bnReluConv(bnReluConv(stem, 4, { name: 'a' }), 8, { kernel: 1, name: 'b' }), stem);
    const h = relu(batchNorm(block, { name: 'bn_out' }));
    const separable = relu6(batchNorm(conv2d(relu6(batchNorm(depthwiseConv2d(maxPool(h), { name: 'dw', stride: 2 }), { name: 'dw_bn' })), 12, { kernel: 1, name: 'pw' }), { name: 'pw_bn' }));
    return softmax(dense(flatten(globalAvgPool(separable)), 5, { name: 'fc' }));
  });
}

/** The helper's graph with every op, with positive BN variances (it draws all weights from N(0, 1)). */
export function allOpsPositiveVariance(): Graph {
  const base = allOpsGraph();
  const weights = Object.entries(base.weights).map(([n, w]) => [n, n.endsWith('.var') ? { ...w, data: w.data.map((v) => Math.abs(v) + 0.5) } : w]);
  return { ...base, weights: Object.fromEntries(weights) };
}

export const GOLDEN_GRAPHS: Readonly<Record<string, () => Graph>> = {
  'preact-separable': preactSeparable,
  'all-ops': allOpsPositiveVariance,
  'all-ops-nchw': () => ({ ...allOpsPositiveVariance(), layout: { input: 'NCHW' } }),
};
