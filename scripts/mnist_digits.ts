// Writes examples/web/digits.json: a few real MNIST digits for the web demo to classify, taken from
// the `mnist` package's samples in the test split that training holds out (src/train/mnist.ts:
// within each class, samples 4, 9, 14, ...): the first two of every class, not chosen by how
// the models do on them. Pixels as 8-bit greyscale, one hex string of 784 bytes per digit.
//
//   npx tsx scripts/mnist_digits.ts
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface MnistDigit {
  readonly raw: readonly number[];
  readonly length: number;
}

const PIXELS = 28 * 28;
const PER_CLASS = 2;
const digits = createRequire(import.meta.url)('mnist') as readonly MnistDigit[];
const picked = [];
for (let label = 0; label < 10; label++) {
  for (let k = 0; k < PER_CLASS; k++) {
    const index = 5 * k + 4;
    const raw = digits[label].raw.slice(index * PIXELS, (index + 1) * PIXELS);
    const pixels = raw
      .map((v) =>
        Math.round(v * 255)
          .toString(16)
          .padStart(2, '0'),
      )
      .join('');
    picked.push({ label, sample: index, pixels });
  }
}
const out = fileURLToPath(new URL('../examples/web/digits.json', import.meta.url));
await writeFile(
  out,
  `${JSON.stringify({ source: 'the mnist npm package, test split of src/train/mnist.ts', side: 28, digits: picked }, null, 1)}\n`,
);
process.stdout.write(`wrote ${picked.length} digits to examples/web/digits.json\n`);
