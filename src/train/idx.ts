// The IDX format of MNIST and its family (Fashion-MNIST, KMNIST, ...), plain or gzipped:
//
//   0x00 0x00 <type> <ndims>   then ndims big-endian uint32 sizes, then the values, row-major.
//
// The family stores images and labels as unsigned bytes (type 0x08); other element types are
// refused by name. A dataset directory holds four files, named as the originals:
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte, each optionally with .gz (some copies write `-images.idx3-ubyte`).
// Pixels are scaled to [0, 1] and nothing else: normalisation, if a model wants it, is the
// model's first layer, so a compiled module needs no preprocessing contract.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SlimcError } from '../ir/errors.ts';
import { describeFsError } from '../util/fs_errors.ts';
import { imageDataset, type ImageDataset } from './data.ts';

/** An IDX array of unsigned bytes. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'ubyte',
  0x09: 'byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** Parses an IDX file's bytes (gunzipping them first when they are gzip); `where` names the file in errors. */
export function parseIdx(raw: Uint8Array, where: string): IdxArray {
  let bytes = raw;
  if (isGzip(raw)) {
    try {
      bytes = gunzipSync(raw);
    } catch (e) {
      throw new SlimcError(`is gzip data that does not decompress: ${e instanceof Error ? e.message : String(e)}`, where);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0)
    throw new SlimcError('is not an IDX file (it must start with two zero bytes, a type byte and a dimension count)', where);
  const type = bytes[2];
  if (type !== UBYTE) {
    const name = TYPE_NAMES[type];
    throw new SlimcError(
      name
        ? `holds ${name} values; not supported yet: only unsigned bytes (type 0x08), as the MNIST family uses`
        : `has an unknown IDX element type 0x${type.toString(16).padStart(2, '0')}`,
      where,
    );
  }
  const rank = bytes[3];
  if (rank < 1) throw new SlimcError('declares 0 dimensions', where);
  const header = 4 + 4 * rank;
  if (bytes.length < header)
    throw new SlimcError(`ends inside its header (${bytes.length} bytes, ${header} needed for ${rank} dimensions)`, where);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - header !== count) {
    throw new SlimcError(`has ${bytes.length - header} bytes of data but its header [${dims.join(',')}] declares ${count}`, where);
  }
  return { dims, data: bytes.subarray(header) };
}

/** The file names tried for one array of a split, in order. */
export function idxFileNames(split: 'train' | 't10k', what: 'images' | 'labels'): string[] {
  const rank = what === 'images' ? 3 : 1;
  const stems = [`${split}-${what}-idx${rank}-ubyte`, `${split}-${what}.idx${rank}-ubyte`];
  return stems.flatMap((s) => [s, `${s}.gz`]);
}

async function readFirst(dir: string, names: readonly string[]): Promise<{ path: string; bytes: Uint8Array } | undefined> {
  for (const name of names) {
    const path = join(dir, name);
    try {
      return { path, bytes: await readFile(path) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new SlimcError(`cannot be read: ${describeFsError(e)}`, path);
    }
  }
  return undefined;
}

/** Images [N,H,W] (one channel) or [N,H,W,C] scaled to [0,1], and N labels. */
function split(
  images: IdxArray,
  labels: IdxArray,
  imagesPath: string,
  labelsPath: string,
): { shape: [number, number, number]; images: Float32Array; labels: Uint8Array } {
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new SlimcError(`holds an array of shape [${images.dims.join(',')}]; images must be [N,H,W] or [N,H,W,C]`, imagesPath);
  }
  if (labels.dims.length !== 1) throw new SlimcError(`holds an array of shape [${labels.dims.join(',')}]; labels must be [N]`, labelsPath);
  if (images.dims[0] !== labels.dims[0]) {
    throw new SlimcError(`holds ${labels.dims[0]} labels but ${imagesPath} holds ${images.dims[0]} images`, labelsPath);
  }
  const [, h, w, c = 1] = images.dims;
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return { shape: [h, w, c], images: pixels, labels: labels.data };
}

/**
 * The dataset in `dir` (the four files of the MNIST layout), pixels in [0,1], NHWC. The class
 * count is the largest label plus one. `name` labels it in messages and checkpoints.
 */
export async function loadIdxDataset(dir: string, name = `idx:${dir}`): Promise<ImageDataset> {
  const arrays = [];
  for (const [s, what] of [
    ['train', 'images'],
    ['train', 'labels'],
    ['t10k', 'images'],
    ['t10k', 'labels'],
  ] as const) {
    const names = idxFileNames(s, what);
    const found = await readFirst(dir, names);
    if (!found) throw new SlimcError(`no ${s === 'train' ? 'training' : 'test'} ${what} file: looked for ${names.join(', ')}`, dir);
    arrays.push({ path: found.path, array: parseIdx(found.bytes, found.path) });
  }
  const [trainImages, trainLabels, testImages, testLabels] = arrays;
  const train = split(trainImages.array, trainLabels.array, trainImages.path, trainLabels.path);
  const test = split(testImages.array, testLabels.array, testImages.path, testLabels.path);
  if (train.shape.join(',') !== test.shape.join(',')) {
    throw new SlimcError(`test images are [${test.shape.join(',')}] but training images are [${train.shape.join(',')}]`, testImages.path);
  }
  let largest = 0;
  for (const labels of [train.labels, test.labels]) for (const l of labels) largest = Math.max(largest, l);
  const classes = Math.max(2, largest + 1);
  return imageDataset({ name, sampleShape: train.shape, classes, train, test });
}
