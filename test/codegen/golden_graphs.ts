// The small graphs whose emitted code is kept as baselines in test/golden/codegen/ (no vitest
// import: test/golden/codegen/update.ts regenerates the baselines from them).
import {
  add,
  avgPool,
  batchNorm,
  bnReluConv,
  concat,
  conv2d,
  dense,
  depthwiseConv2d,
  flatten,
  globalAvgPool,
  maxPool,
  model,
  relu,
  relu6,
  softmax,
} from '../../src/frontends/dsl.ts';
import type { Graph } from '../../src/ir/types.ts';
import { allOpsGraph } from '../helpers/all_ops_graph.ts';

/** A stem, one pre-activation residual block, a depthwise-separable block, a softmax head. */
export function preactSeparable(): Graph {
  return model('preact-separable', { input: [8, 8, 3] }, (x) => {
    const stem = conv2d(x, 8, { name: 'stem' });
    const block = add(bnReluConv(bnReluConv(stem, 4, { name: 'a' }), 8, { kernel: 1, name: 'b' }), stem);
    const h = relu(batchNorm(block, { name: 'bn_out' }));
    const separable = relu6(
      batchNorm(
        conv2d(relu6(batchNorm(depthwiseConv2d(maxPool(h), { name: 'dw', stride: 2 }), { name: 'dw_bn' })), 12, { kernel: 1, name: 'pw' }),
        { name: 'pw_bn' },
      ),
    );
    return softmax(dense(flatten(globalAvgPool(separable)), 5, { name: 'fc' }));
  });
}

/** The helper's graph with every op, with positive BN variances (it draws all weights from N(0, 1)). */
export function allOpsPositiveVariance(): Graph {
  const base = allOpsGraph();
  const weights = Object.entries(base.weights).map(([n, w]) => [
    n,
    n.endsWith('.var') ? { ...w, data: w.data.map((v) => Math.abs(v) + 0.5) } : w,
  ]);
  return { ...base, weights: Object.fromEntries(weights) };
}

/**
 * Every way a sliding window is emitted: explicit asymmetric padding on convs, depthwise convs
 * and pools; strides with dilations (computed at stride 1, then subsampled); average pools that
 * exclude or count padded positions; 'same' padding given explicitly.
 */
/** Sliding windows of every padding kind; `countingPads: false` leaves out the one pool the plan does not cover. */
export function windows({ countingPads = true } = {}): Graph {
  return model('windows', { input: [9, 7, 4] }, (x) => {
    const a = conv2d(x, 6, { kernel: 3, padding: [0, 2, 1, 0], bias: true, name: 'conv_asym' });
    const b = depthwiseConv2d(a, { kernel: 3, padding: [2, 0, 0, 1], name: 'dw_asym' });
    const c = depthwiseConv2d(b, { kernel: 3, stride: 2, dilation: 2, padding: 'same', name: 'dw_strided_dilated' });
    const d = conv2d(b, 6, { kernel: [3, 2], stride: [2, 1], dilation: [1, 2], padding: 1, name: 'conv_strided_dilated' });
    const e = conv2d(b, 6, { kernel: 3, dilation: 2, padding: 'same', name: 'conv_dilated' });
    const pools = [
      maxPool(e, { kernel: 3, stride: 2, padding: [1, 0, 0, 1], name: 'max_asym' }),
      avgPool(e, { kernel: 3, stride: 2, padding: 'same', name: 'avg_same_exclusive' }),
      ...(countingPads ? [avgPool(e, { kernel: 3, stride: 2, padding: 1, countIncludePad: true, name: 'avg_counting_pads' })] : []),
      avgPool(e, { kernel: 3, stride: 2, padding: [1, 1, 1, 1], name: 'avg_explicit_exclusive' }),
    ];
    const same = conv2d(e, 6, { kernel: 3, padding: 1, name: 'conv_same_as_explicit' });
    const heads = [c, d, ...pools, same].map((v) => globalAvgPool(v));
    return dense(flatten(concat(heads[0], ...heads.slice(1))), 3, { name: 'fc' });
  });
}

export const GOLDEN_GRAPHS: Readonly<Record<string, () => Graph>> = {
  'preact-separable': preactSeparable,
  'all-ops': allOpsPositiveVariance,
  'all-ops-nchw': () => ({ ...allOpsPositiveVariance(), layout: { input: 'NCHW' } }),
  windows: () => windows(),
};
