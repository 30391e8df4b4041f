// The data interface: a user's images and labels are checked once, with errors that say which
// split and what does not fit. No backend needed.
import { describe, expect, it } from 'vitest';
import { SlimcError } from '../../src/ir/errors.ts';
import { imageDataset, type ImageDatasetInput } from '../../src/train/data.ts';
import { loadMnist, MNIST_MEAN, MNIST_STD } from '../../src/train/mnist.ts';

const valid = (): ImageDatasetInput => ({
  name: 'toy',
  sampleShape: [2, 2, 1],
  classes: 3,
  train: { images: new Float32Array(3 * 4), labels: [0, 1, 2] },
  test: { images: new Float32Array(4), labels: [1] },
});

const rejects = (input: ImageDatasetInput, message: RegExp) => {
  expect(() => imageDataset(input)).toThrow(SlimcError);
  expect(() => imageDataset(input)).toThrow(message);
};

describe('imageDataset', () => {
  it('accepts consistent images and labels, copying plain arrays into typed ones', () => {
    const d = imageDataset(valid());
    expect(d.train.count).toBe(3);
    expect(d.train.labels).toBeInstanceOf(Int32Array);
    expect(d.sampleShape).toEqual([2, 2, 1]);
  });

  it('rejects images and labels of mismatched counts, naming the split', () => {
    rejects({ ...valid(), train: { images: new Float32Array(2 * 4), labels: [0, 1, 2] } }, /train split: has 2 images but 3 labels/);
  });

  it('rejects image data that is not a whole number of samples', () => {
    rejects(
      { ...valid(), test: { images: new Float32Array(5), labels: [1] } },
      /test split: has 5 image values, which is not a whole number of \[2,2,1\] images/,
    );
  });

  it('rejects labels outside the classes, non-integer labels, non-finite pixels and bad shapes', () => {
    rejects(
      { ...valid(), train: { images: new Float32Array(12), labels: [0, 3, 1] } },
      /label 1 is 3; labels must be whole numbers in 0..2/,
    );
    rejects({ ...valid(), train: { images: new Float32Array(12), labels: [0, 1.5, 1] } }, /label 1 is 1.5/);
    rejects({ ...valid(), test: { images: Float32Array.of(0, NaN, 0, 0), labels: [1] } }, /image 0 holds a non-finite value \(NaN\)/);
    rejects({ ...valid(), sampleShape: [4, 1] }, /sample shape must be \[H, W, C\]/);
    rejects({ ...valid(), classes: 1 }, /at least 2 classes/);
  });
});

describe('MNIST', () => {
  it('has a fixed, class-balanced 8,004 / 1,996 split of normalised 28x28x1 digits', () => {
    const d = loadMnist();
    expect(d.sampleShape).toEqual([28, 28, 1]);
    expect([d.train.count, d.test.count]).toEqual([8004, 1996]);
    const perClass = (labels: Int32Array) => Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);
    // Every fifth sample of each class is a test sample.
    perClass(d.test.labels).forEach((n, c) => expect(n).toBe(Math.floor((perClass(d.train.labels)[c] + n) / 5)));
    const min = d.train.images.reduce((a, b) => Math.min(a, b), Infinity);
    expect(min).toBeCloseTo(-MNIST_MEAN / MNIST_STD, 5);
  });
});
