// Pruning a really sparsity-trained model (the committed MNIST checkpoint) checked on real
// digits: the compact graph gives the masked original's logits, hence its predictions, and
// removes most of the network.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/cli/load_model.ts';
import { initBackend, interpret } from '../../src/interp/index.ts';
import type { Graph } from '../../src/ir/types.ts';
import { slimGraph } from '../../src/passes/slim.ts';
import { loadMnist } from '../../src/train/mnist.ts';
import { compareOutputs } from '../helpers/compare.ts';

const CHECKPOINT = new URL('../../examples/mnist/sparse.slim', import.meta.url).pathname;
const SAMPLES = 200;

const argmax = (logits: Float32Array, classes: number) =>
  Array.from({ length: logits.length / classes }, (_, i) => {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    return row.indexOf(Math.max(...row));
  });

describe('pruning the sparsity-trained MNIST checkpoint on real digits', () => {
  let graph: Graph;
  let images: Float32Array;
  let labels: Int32Array;
  beforeAll(async () => {
    await initBackend('wasm');
    graph = await loadModel(CHECKPOINT);
    const test = loadMnist().test;
    images = test.images.subarray(0, SAMPLES * 28 * 28);
    labels = test.labels.subarray(0, SAMPLES);
  });

  it.each([0.5, 0.68])('at ratio %s the compact graph equals the masked original', async (ratio) => {
    const { masked, compact, report } = slimGraph(graph, { ratio });
    const [reference] = await interpret(masked, images);
    const [actual] = await interpret(compact, images);
    const cmp = compareOutputs(reference, actual);
    expect(cmp.ok, `max |diff| ${cmp.maxAbsDiff} > ${cmp.tolerance}`).toBe(true);
    expect(argmax(actual, 10)).toEqual(argmax(reference, 10));
    // Sparsity training made these channels unimportant: the masked model still reads digits.
    const correct = argmax(actual, 10).filter((p, i) => p === labels[i]).length;
    expect(correct / SAMPLES).toBeGreaterThan(0.9);
    expect(report.after.params).toBeLessThan(report.before.params / 2);
  });
});
