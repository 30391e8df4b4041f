// Training data: labelled images held in memory, NHWC, already normalised.
//
// Users bring their own data by building an `ImageDataset` with `imageDataset(...)`, which
// checks it once (counts, shapes, labels, finite values) so the training loop can trust it.
import { SlimcError } from '../ir/errors.ts';
import { formatShape } from '../ir/shapes.ts';

/** N labelled samples: `images` is N * H * W * C floats in NHWC order, `labels` N class ids. */
export interface LabelledImages {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

export interface ImageDataset {
  readonly name: string;
  /** One sample's shape, [H, W, C]. */
  readonly sampleShape: readonly [number, number, number];
  /** Labels are 0 .. classes-1. */
  readonly classes: number;
  readonly train: LabelledImages;
  readonly test: LabelledImages;
}

/** What a user hands in: plain arrays are fine, they are copied into typed arrays. */
export interface ImageSplitInput {
  readonly images: Float32Array | readonly number[];
  readonly labels: Int32Array | Uint8Array | readonly number[];
}

export interface ImageDatasetInput {
  readonly name: string;
  readonly sampleShape: readonly number[];
  readonly classes: number;
  readonly train: ImageSplitInput;
  readonly test: ImageSplitInput;
}

/** A checked dataset: errors name the split and say what does not fit. */
export function imageDataset(input: ImageDatasetInput): ImageDataset {
  const where = `dataset '${input.name}'`;
  const shape = input.sampleShape;
  if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new SlimcError(`the sample shape must be [H, W, C] of positive integers, got ${formatShape(shape)}`, where);
  }
  if (!Number.isInteger(input.classes) || input.classes < 2) {
    throw new SlimcError(`needs at least 2 classes, got ${input.classes}`, where);
  }
  const sampleShape = [shape[0], shape[1], shape[2]] as const;
  return {
    name: input.name,
    sampleShape,
    classes: input.classes,
    train: checkSplit(input.train, sampleShape, input.classes, `${where}, train split`),
    test: checkSplit(input.test, sampleShape, input.classes, `${where}, test split`),
  };
}

function checkSplit(split: ImageSplitInput, shape: readonly number[], classes: number, where: string): LabelledImages {
  const perSample = shape[0] * shape[1] * shape[2];
  const count = split.labels.length;
  if (count === 0) throw new SlimcError('has no samples', where);
  if (split.images.length !== count * perSample) {
    const fits = split.images.length % perSample === 0;
    throw new SlimcError(
      fits
        ? `has ${split.images.length / perSample} images but ${count} labels`
        : `has ${split.images.length} image values, which is not a whole number of ${formatShape(shape)} images (${perSample} values each); ${count} labels`,
      where,
    );
  }
  const images = split.images instanceof Float32Array ? split.images : Float32Array.from(split.images);
  const bad = images.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new SlimcError(`image ${Math.floor(bad / perSample)} holds a non-finite value (${images[bad]})`, where);
  const labels = Int32Array.from(split.labels);
  labels.forEach((label, i) => {
    if (!Number.isInteger(split.labels[i]) || label < 0 || label >= classes) {
      throw new SlimcError(`label ${i} is ${split.labels[i]}; labels must be whole numbers in 0..${classes - 1}`, where);
    }
  });
  return { images, labels, count };
}

/** The samples at `indices`, copied into one batch. */
export function gatherBatch(split: LabelledImages, indices: readonly number[]): LabelledImages {
  const perSample = split.images.length / split.count;
  const images = new Float32Array(indices.length * perSample);
  const labels = new Int32Array(indices.length);
  indices.forEach((i, k) => {
    images.set(split.images.subarray(i * perSample, (i + 1) * perSample), k * perSample);
    labels[k] = split.labels[i];
  });
  return { images, labels, count: indices.length };
}

/** The first `count` samples (or all): for quick evaluation and tests. */
export function takeFirst(split: LabelledImages, count: number): LabelledImages {
  const n = Math.min(count, split.count);
  const perSample = split.images.length / split.count;
  return { images: split.images.subarray(0, n * perSample), labels: split.labels.subarray(0, n), count: n };
}
