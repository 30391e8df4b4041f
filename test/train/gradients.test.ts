// Training-mode execution of a graph with every op (residual add, concat, channel gather,
// depthwise and dilated convs, padded pools, BN on 2-D and 4-D values, a final softmax):
// the gradients on wasm equal those on tfjs-backend-cpu, and BN in training mode normalises
// with the batch statistics and updates the running ones as PyTorch does.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  avgPool,
  batchNorm,
  concat,
  conv2d,
  dense,
  depthwiseConv2d,
  flatten,
  gather,
  globalAvgPool,
  maxPool,
  model,
  relu,
  relu6,
  softmax,
} from '../../src/frontends/dsl.ts';
import { initBackend, type BackendName } from '../../src/interp/backend.ts';
import type { Graph } from '../../src/ir/types.ts';
import { batchNormTraining, updateRunningStatistics, type BatchStatistics } from '../../src/train/batch_norm.ts';
import { forwardTraining } from '../../src/train/forward.ts';
import { prepareTraining } from '../../src/train/setup.ts';
import { TrainableWeights } from '../../src/train/trainable.ts';
import { Rng } from '../../src/util/random.ts';

const everyOp = (): Graph =>
  model('every_op', { input: [9, 9, 3], seed: 3 }, (x) => {
    const stem = relu(batchNorm(conv2d(x, 8, { stride: 2, padding: 'same' })));
    const dilated = relu6(batchNorm(conv2d(stem, 8, { dilation: 2 })));
    const residual = add(stem, dilated);
    const dw = relu(batchNorm(depthwiseConv2d(residual, { stride: 1 })));
    const joined = concat(dw, maxPool(residual, { kernel: 3, stride: 1, padding: 'same' }));
    const picked = gather(joined, [0, 3, 3, 9, 15, 2]);
    const pooled = avgPool(picked, { kernel: 3, stride: 2, padding: 1, countIncludePad: false });
    const features = relu(batchNorm(dense(flatten(add(pooled, avgPool(picked, { kernel: 3, stride: 2, padding: 1 }))), 12)));
    const head = dense(flatten(globalAvgPool(picked)), 5);
    return softmax(add(head, dense(features, 5)));
  });

const rng = new Rng(5);
const images = rng.fill(6 * 9 * 9 * 3, () => rng.normal());
const labels = Int32Array.from({ length: 6 }, (_, i) => i % 5);

/** Loss and every weight's gradient, on `backend`. */
async function gradientsOn(backend: BackendName, graph: Graph): Promise<Record<string, Float32Array>> {
  await initBackend(backend);
  const weights = new TrainableWeights(graph);
  const statistics = new Map<string, BatchStatistics>();
  try {
    const x = tf.tensor(images, [6, 9, 9, 3]);
    const { value, grads } = tf.variableGrads(() => {
      const logits = forwardTraining(graph, weights, x, statistics);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 5), logits) as tf.Scalar;
    }, [...weights.variables.values()]);
    const out: Record<string, Float32Array> = { loss: Float32Array.from(value.dataSync()) };
    for (const [name, v] of weights.variables) out[name] = Float32Array.from(grads[v.name].dataSync());
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    x.dispose();
    return out;
  } finally {
    statistics.forEach((s) => (s.mean.dispose(), s.variance.dispose()));
    weights.dispose();
  }
}

beforeAll(async () => {
  await initBackend('cpu');
  await prepareTraining('wasm');
});

describe('training-mode execution', () => {
  it('gives the same loss and gradients on wasm as on tfjs-backend-cpu, for a graph with every op', async () => {
    const graph = everyOp();
    const before = (await initBackend('wasm'), tf.memory().numTensors);
    const ours = await gradientsOn('wasm', graph);
    expect(tf.memory().numTensors).toBe(before);
    const reference = await gradientsOn('cpu', graph);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(reference).sort());
    // Every weight of the graph gets a gradient (BN statistics are not trained).
    expect(Object.keys(ours)).toHaveLength(1 + Object.keys(graph.weights).filter((w) => !/\.(mean|var)$/.test(w)).length);
    for (const [name, expected] of Object.entries(reference)) {
      // The floor: a bias followed by BN has a zero gradient, which both backends give as noise.
      const scale = Math.max(1e-2, ...expected.map(Math.abs));
      const worst = Math.max(...ours[name].map((v, i) => Math.abs(v - expected[i])));
      expect(worst / scale, name).toBeLessThan(1e-4);
    }
    expect(Math.max(...Object.values(ours).flatMap((g) => [...g].map(Math.abs)))).toBeGreaterThan(0);
  });

  it.each([false, true])(
    'has a closed-form backward pass equal to autodiff of BN written with plain ops (relu after: %s)',
    async (relu) => {
      await initBackend('wasm');
      const x = tf.tensor(
        rng.fill(4 * 3 * 3 * 5, () => 2 * rng.normal() + 1),
        [4, 3, 3, 5],
      );
      const probe = tf.tensor(
        rng.fill(4 * 3 * 3 * 5, () => rng.normal()),
        [4, 3, 3, 5],
      );
      const gamma = tf.tensor1d(rng.fill(5, () => rng.normal()));
      const beta = tf.tensor1d(rng.fill(5, () => rng.normal()));
      const plain = (v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(v, [0, 1, 2]);
        const y = tf.add(tf.mul(tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
        return relu ? tf.relu(y) : y;
      };
      const closedForm = (v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        batchNormTraining(v, g, b, 1e-5, (s) => (s.mean.dispose(), s.variance.dispose()), relu);
      const gradsOf = (f: typeof plain) =>
        tf.grads((v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(v, g, b), probe)))([x, gamma, beta]);
      const expected = gradsOf(plain);
      const ours = gradsOf(closedForm);
      ours.forEach((t, i) => {
        const e = expected[i].dataSync();
        const worst = Math.max(...t.dataSync().map((v, k) => Math.abs(v - e[k])));
        expect(worst, ['x', 'gamma', 'beta'][i]).toBeLessThan(1e-4 * Math.max(1, ...e.map(Math.abs)));
      });
      [x, probe, gamma, beta, ...expected, ...ours].forEach((t) => t.dispose());
    },
  );

  it('normalises with the batch statistics and blends the running ones with momentum 0.1 (unbiased variance)', async () => {
    await initBackend('wasm');
    const x = tf.tensor2d([
      [1, 10],
      [3, 10],
      [8, 13],
    ]);
    let stats: BatchStatistics | undefined;
    const y = batchNormTraining(x, tf.tensor1d([2, 1]), tf.tensor1d([0.5, 0]), 0, (s) => (stats = s));
    // Channel 0: mean 4, biased variance 26/3; channel 1: mean 11, variance 2.
    const expected = [
      [2 * (-3 / Math.sqrt(26 / 3)) + 0.5, -1 / Math.sqrt(2)],
      [2 * (-1 / Math.sqrt(26 / 3)) + 0.5, -1 / Math.sqrt(2)],
      [2 * (4 / Math.sqrt(26 / 3)) + 0.5, 2 / Math.sqrt(2)],
    ];
    (y.arraySync() as number[][]).forEach((row, i) => row.forEach((v, c) => expect(v).toBeCloseTo(expected[i][c], 5)));
    const [mean, variance] = updateRunningStatistics(tf.tensor1d([0, 0]), tf.tensor1d([1, 1]), stats!);
    expect(Array.from(mean.dataSync())).toEqual([expect.closeTo(0.4, 6), expect.closeTo(1.1, 6)]);
    // Unbiased: 26/3 * 3/2 = 13 and 2 * 3/2 = 3.
    expect(Array.from(variance.dataSync())).toEqual([expect.closeTo(0.9 + 1.3, 5), expect.closeTo(0.9 + 0.3, 5)]);
    [x, y, mean, variance, stats!.mean, stats!.variance].forEach((t) => t.dispose());
  });
});
