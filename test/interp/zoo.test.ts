// The paper's model zoo runs on the reference interpreter: finite outputs of the declared shape,
// no tensor left behind, and batches that agree with single samples. Each model runs once or
// twice only (vgg19 holds 20M weights).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import densenet40 from '../../examples/densenet40.ts';
import efficientnetSmall from '../../examples/efficientnet_small.ts';
import mobilenet from '../../examples/mobilenet.ts';
import mobilenetv3Small from '../../examples/mobilenetv3_small.ts';
import resnet164 from '../../examples/resnet164.ts';
import resnet56 from '../../examples/resnet56.ts';
import vgg19 from '../../examples/vgg19.ts';
import type { Graph } from '../../src/ir/types.ts';
import { initBackend } from '../../src/interp/backend.ts';
import { interpret } from '../../src/interp/interpret.ts';
import { Rng } from '../../src/util/random.ts';
import { expectClose } from './tiny.ts';

beforeAll(() => initBackend('wasm'));

const cifarBatch = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return rng.fill(n * 32 * 32 * 3, () => rng.normal());
};

const zoo: readonly [string, () => Graph][] = [
  ['resnet56', () => resnet56()],
  ['mobilenet', () => mobilenet()],
  ['efficientnet_small', () => efficientnetSmall()],
  ['mobilenetv3_small', () => mobilenetv3Small()],
  ['densenet40', () => densenet40()],
  ['resnet164', () => resnet164()],
  ['vgg19', () => vgg19()],
];

describe('model zoo', () => {
  it.each(zoo)('%s: 10 finite logits per sample, no tensor leaked', async (_name, build) => {
    const graph = build();
    const before = tf.memory().numTensors;
    const outputs = await interpret(graph, cifarBatch(1, 1));
    expect(tf.memory().numTensors).toBe(before);
    expect(outputs.map((o) => o.length)).toEqual([10]);
    expect(outputs[0].every(Number.isFinite)).toBe(true);
  });

  it('resnet56: a batch of 2 gives each sample’s own logits, and they differ', async () => {
    const graph = resnet56();
    const input = cifarBatch(2, 2);
    const before = tf.memory().numTensors;
    const [batched] = await interpret(graph, input);
    const [first] = await interpret(graph, input.subarray(0, 32 * 32 * 3));
    const [second] = await interpret(graph, input.subarray(32 * 32 * 3));
    expect(tf.memory().numTensors).toBe(before);
    expectClose(batched.subarray(0, 10), first);
    expectClose(batched.subarray(10), second);
    expect(Array.from(first)).not.toEqual(Array.from(second));
  });
});
