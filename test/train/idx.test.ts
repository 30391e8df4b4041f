// IDX files (the MNIST family's format), written by the test itself: parsing plain and gzipped
// files, a dataset directory in the MNIST layout, the errors that name the file at fault, and
// `slimc train --data idx:DIR` end to end.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlimcError } from '../../src/ir/errors.ts';
import { loadFashionMnist } from '../../src/train/fashion_mnist.ts';
import { loadIdxDataset, parseIdx } from '../../src/train/idx.ts';
import { runSlimc } from '../helpers/cli.ts';

/** An IDX file of unsigned bytes: magic 0 0 0x08 rank, big-endian sizes, the values. */
function idxBytes(dims: readonly number[], values: ArrayLike<number>, type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(Uint8Array.from(values), header.length);
  return out;
}

/** n images of h x w whose pixel p of image i is (i * 7 + p) mod 256, and labels i mod classes. */
const images = (n: number, h: number, w: number) =>
  idxBytes(
    [n, h, w],
    Array.from({ length: n * h * w }, (_, k) => (Math.floor(k / (h * w)) * 7 + (k % (h * w))) % 256),
  );
const labels = (n: number, classes: number) =>
  idxBytes(
    [n],
    Array.from({ length: n }, (_, i) => i % classes),
  );

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slimc-idx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A dataset directory: training files gzipped, test files plain, as copies mix both. */
async function datasetDir(name: string, side: number, train: number, test: number, classes: number): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(images(train, side, side)));
  await writeFile(join(d, 'train-labels-idx1-ubyte.gz'), gzipSync(labels(train, classes)));
  await writeFile(join(d, 't10k-images-idx3-ubyte'), images(test, side, side));
  await writeFile(join(d, 't10k-labels-idx1-ubyte'), labels(test, classes));
  return d;
}

describe('parseIdx', () => {
  it('reads the dimensions and values, the same from plain and gzipped bytes', () => {
    const plain = images(3, 2, 4);
    const a = parseIdx(plain, 'a');
    expect(a.dims).toEqual([3, 2, 4]);
    expect(Array.from(a.data.subarray(8, 12))).toEqual([7, 8, 9, 10]);
    const b = parseIdx(gzipSync(plain), 'b');
    expect(b.dims).toEqual(a.dims);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it('names the file and the fault: magic, element type, truncation', () => {
    const fails = (bytes: Uint8Array, message: RegExp) => {
      expect(() => parseIdx(bytes, 'f.idx')).toThrow(SlimcError);
      expect(() => parseIdx(bytes, 'f.idx')).toThrow(message);
    };
    fails(Uint8Array.of(1, 2, 3, 4, 5), /f\.idx: is not an IDX file/);
    fails(idxBytes([2], [0, 0, 0, 0, 0, 0, 0, 0], 0x0d), /holds float32 values; not supported yet/);
    fails(images(2, 3, 3).subarray(0, 20), /has 4 bytes of data but its header \[2,3,3\] declares 18/);
    fails(Uint8Array.of(0, 0, 8, 3, 0, 0), /ends inside its header/);
    fails(Uint8Array.of(0x1f, 0x8b, 1, 2, 3), /is gzip data that does not decompress/);
  });
});

describe('loadIdxDataset', () => {
  it('loads the four files as NHWC pixels in [0,1], labels and the class count', async () => {
    const d = await loadIdxDataset(await datasetDir('ok', 5, 6, 3, 4));
    expect(d.sampleShape).toEqual([5, 5, 1]);
    expect([d.train.count, d.test.count, d.classes]).toEqual([6, 3, 4]);
    expect(Array.from(d.train.labels)).toEqual([0, 1, 2, 3, 0, 1]);
    // Image 1, pixel 2 is byte 9: pixels are bytes / 255, nothing else.
    expect(d.train.images[25 + 2]).toBeCloseTo(9 / 255, 7);
    expect(Math.max(...d.test.images)).toBeLessThanOrEqual(1);
    expect(Math.min(...d.test.images)).toBeGreaterThanOrEqual(0);
  });

  it('says which file is missing and which names it looked for', async () => {
    const d = await datasetDir('missing', 4, 2, 2, 2);
    await rm(join(d, 't10k-labels-idx1-ubyte'));
    await expect(loadIdxDataset(d)).rejects.toThrow(/no test labels file: looked for t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte\.gz/);
  });

  it('refuses label and image counts that differ, naming the labels file', async () => {
    const d = await datasetDir('counts', 4, 3, 2, 2);
    await writeFile(join(d, 't10k-labels-idx1-ubyte'), labels(5, 2));
    await expect(loadIdxDataset(d)).rejects.toThrow(/t10k-labels-idx1-ubyte: holds 5 labels but .*t10k-images-idx3-ubyte holds 2 images/);
  });
});

describe('Fashion-MNIST', () => {
  it('says how to get the files when they are not installed', async () => {
    const missing = loadFashionMnist([join(dir, 'nowhere')]);
    await expect(missing).rejects.toThrow(
      /Fashion-MNIST is not installed \(looked in .*nowhere\).*apt install dataset-fashion-mnist.*--data idx:DIR/,
    );
  });
});

describe('slimc train --data idx:DIR', () => {
  it('trains the MNIST example network on 28x28 IDX files', async () => {
    const d = await datasetDir('mnist-like', 28, 10, 2, 10);
    const out = join(dir, 'ckpt');
    const model = new URL('../../examples/mnist/model.ts', import.meta.url).pathname;
    const r = await runSlimc('train', model, '--data', `idx:${d}`, '--epochs', '1', '--batch-size', '5', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/trained 1 epochs; test accuracy \d+\.\d\d%/);
  }, 120_000);
});
