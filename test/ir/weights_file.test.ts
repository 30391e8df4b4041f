// The weights file format: bit-exact round trip, 64-byte alignment, checksums equal to the IR
// digests, errors naming the file and the tensor, atomic writes, and a decoder free of Node APIs.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weightDigest } from '../../src/ir/digest.ts';
import { SlimcError } from '../../src/ir/errors.ts';
import type { Weights } from '../../src/ir/types.ts';
import { decodeManifest, decodeWeights, encodedWeightsSize, encodeWeights, WEIGHTS_ALIGNMENT } from '../../src/ir/weights_file.ts';
import { readWeightsFile, writeWeightsFile } from '../../src/ir/weights_file_io.ts';
import { allOpsGraph } from '../helpers/graphs.ts';

/** Weights with values whose bits a careless codec changes: -0, NaN payloads, infinities, subnormals. */
function awkwardWeights(): Weights {
  const special = new Float32Array(7);
  special.set([-0, Infinity, -Infinity, 1e-45, -3.4e38, 0.1]);
  new Uint32Array(special.buffer)[6] = 0x7fa00001; // a signalling-NaN pattern with a payload
  return { empty: { shape: [0, 3], data: new Float32Array(0) }, ...allOpsGraph().weights, special: { shape: [7], data: special } };
}

const bitsOf = (data: Float32Array) => Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));

function expectSameWeights(actual: Weights, expected: Weights): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [name, w] of Object.entries(expected)) {
    expect(actual[name].shape, `@${name}`).toEqual(w.shape);
    expect(bitsOf(actual[name].data), `@${name}`).toEqual(bitsOf(w.data));
  }
}

function slimcError(f: () => unknown): SlimcError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SlimcError);
    return e as SlimcError;
  }
  throw new Error('expected a SlimcError');
}

describe('encode and decode', () => {
  const weights = awkwardWeights();
  const bytes = encodeWeights(weights);

  it('round-trips every bit, in key order', () => {
    expectSameWeights(decodeWeights(bytes), weights);
  });

  it('is deterministic', () => {
    expect(encodeWeights(awkwardWeights())).toEqual(bytes);
  });

  it('starts with the magic and version, and aligns every tensor to 64 bytes in the file', () => {
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe('SLIMCWTS');
    expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(1);
    const { tensors, dataStart } = decodeManifest(bytes);
    expect(dataStart % WEIGHTS_ALIGNMENT).toBe(0);
    for (const t of tensors) {
      expect((dataStart + t.offset) % WEIGHTS_ALIGNMENT, `@${t.name}`).toBe(0);
      // The bytes at the offset are the tensor, little-endian float32.
      const view = new DataView(bytes.buffer, dataStart + t.offset, t.byteLength);
      expect(t.byteLength).toBe(weights[t.name].data.byteLength);
      if (t.byteLength > 0) expect(view.getUint32(0, true)).toBe(bitsOf(weights[t.name].data)[0]);
    }
  });

  it('records dtype, shape and the checksum the textual IR prints as the digest', () => {
    const { tensors } = decodeManifest(bytes);
    for (const t of tensors) {
      expect(t.dtype).toBe('f32');
      expect(t.shape).toEqual(weights[t.name].shape);
      expect(t.checksum).toBe(weightDigest(weights[t.name]));
    }
  });

  it('decodes copies that do not alias the file bytes', () => {
    const copy = bytes.slice();
    const decoded = decodeWeights(copy);
    copy.fill(0);
    expectSameWeights(decoded, weights);
  });

  it('decodes from a Uint8Array that is a view at an unaligned offset of a larger buffer', () => {
    const larger = new Uint8Array(bytes.length + 3);
    larger.set(bytes, 3);
    expectSameWeights(decodeWeights(larger.subarray(3)), weights);
  });

  it('knows its size without encoding (what report.html states)', () => {
    expect(encodedWeightsSize(weights)).toBe(bytes.byteLength);
    expect(encodedWeightsSize(allOpsGraph().weights)).toBe(encodeWeights(allOpsGraph().weights).byteLength);
    expect(encodedWeightsSize({})).toBe(encodeWeights({}).byteLength);
  });

  it('encodes no weights as a valid file', () => {
    expect(decodeWeights(encodeWeights({}))).toEqual({});
  });

  it('refuses to encode a weight whose data does not fill its shape', () => {
    expect(slimcError(() => encodeWeights({ bad: { shape: [2, 2], data: new Float32Array(3) } })).message).toBe(
      '@bad: has 3 values but shape [2,2] needs 4',
    );
  });
});

describe('corrupt and truncated files: errors name the file and the tensor', () => {
  const weights = awkwardWeights();
  const bytes = encodeWeights(weights);
  const { tensors, dataStart } = decodeManifest(bytes);
  const last = tensors.at(-1)!;

  it('a flipped bit in a tensor', () => {
    const corrupt = bytes.slice();
    const target = tensors.find((t) => t.name === 'fc1.w')!;
    corrupt[dataStart + target.offset + 17] ^= 0x04;
    const e = slimcError(() => decodeWeights(corrupt, 'model.weights.bin'));
    expect(e.message).toMatch(
      /^model\.weights\.bin: tensor @fc1\.w is corrupt: its data digests to #[0-9a-f]{8}, the manifest says #[0-9a-f]{8}$/,
    );
  });

  it('a file cut inside the last tensor', () => {
    const e = slimcError(() => decodeWeights(bytes.subarray(0, bytes.length - 10), 'model.weights.bin'));
    expect(e.message).toContain(`model.weights.bin: truncated: tensor @${last.name} needs bytes`);
  });

  it('a file cut inside the header or the manifest', () => {
    expect(slimcError(() => decodeWeights(bytes.subarray(0, 10), 'w.bin')).message).toBe(
      'w.bin: truncated: a weights file starts with a 16-byte header, this one has 10 bytes',
    );
    expect(slimcError(() => decodeWeights(bytes.subarray(0, 40), 'w.bin')).message).toMatch(
      /^w\.bin: truncated: the manifest needs bytes 16\.\.\d+, the file has 40$/,
    );
  });

  it('not a weights file, or a version this slimc does not read', () => {
    const text = new TextEncoder().encode('graph g(%x: f32[1,4]) -> (%x) {}\n');
    expect(slimcError(() => decodeWeights(text, 'model.slim')).message).toBe(
      'model.slim: not a slimc weights file (it should start with "SLIMCWTS", found "graph g(")',
    );
    const future = bytes.slice();
    new DataView(future.buffer).setUint32(8, 2, true);
    expect(slimcError(() => decodeWeights(future, 'w.bin')).message).toBe(
      'w.bin: weights file format version 2 is not supported (this slimc reads version 1)',
    );
  });

  /** A file whose manifest is `manifest` (JSON text) and whose data section is empty. */
  function withManifest(manifest: string): Uint8Array {
    const json = new TextEncoder().encode(manifest);
    const file = new Uint8Array(16 + json.length + 64);
    file.set(new TextEncoder().encode('SLIMCWTS'));
    new DataView(file.buffer).setUint32(8, 1, true);
    new DataView(file.buffer).setUint32(12, json.length, true);
    file.set(json, 16);
    return file;
  }

  it('a manifest that is not JSON, or has entries that do not add up', () => {
    expect(slimcError(() => decodeWeights(withManifest('{"tensors": ['), 'w.bin')).message).toMatch(
      /^w\.bin: the manifest is not valid UTF-8 JSON/,
    );
    const entry = { name: 'a', shape: [2], dtype: 'f32', offset: 0, byteLength: 8, checksum: '00000000' };
    const bad = (patch: object) =>
      slimcError(() => decodeWeights(withManifest(JSON.stringify({ tensors: [{ ...entry, ...patch }] })), 'w.bin')).message;
    expect(bad({ byteLength: 12 })).toBe('w.bin: manifest entry 0 (@a): "byteLength" is 12 but shape [2] needs 8');
    expect(bad({ dtype: 'f16' })).toBe('w.bin: manifest entry 0 (@a): dtype "f16" is not supported (f32 only)');
    expect(bad({ offset: 4 })).toBe('w.bin: manifest entry 0 (@a): "offset" must be a non-negative multiple of 64');
    expect(bad({ shape: [2.5] })).toBe('w.bin: manifest entry 0 (@a): "shape" must be an array of non-negative integers');
    expect(bad({ checksum: 'xyz' })).toBe('w.bin: manifest entry 0 (@a): "checksum" must be 8 lowercase hex digits');
    expect(bad({ offset: 64 })).toContain('w.bin: truncated: tensor @a needs bytes');
    const twice = JSON.stringify({ tensors: [entry, entry] });
    expect(slimcError(() => decodeWeights(withManifest(twice), 'w.bin')).message).toBe('w.bin: the manifest lists tensor @a twice');
  });
});

describe('files on disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slimc-weights-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes atomically (no temporary file left) and reads back every bit; overwriting works', async () => {
    const path = join(dir, 'model.weights.bin');
    await writeWeightsFile(path, { a: { shape: [1], data: new Float32Array([1]) } });
    const weights = awkwardWeights();
    await writeWeightsFile(path, weights);
    expect(await readdir(dir)).toEqual(['model.weights.bin']);
    expect(new Uint8Array(await readFile(path))).toEqual(encodeWeights(weights));
    expectSameWeights(await readWeightsFile(path), weights);
  });

  it('names the file when it cannot be read or written', async () => {
    const missing = join(dir, 'missing.weights.bin');
    await expect(readWeightsFile(missing)).rejects.toThrow(`${missing}: cannot read the weights file: file not found`);
    const nowhere = join(dir, 'no-such-dir', 'w.bin');
    await expect(writeWeightsFile(nowhere, {})).rejects.toThrow(`${nowhere}: cannot write the weights file: its directory does not exist`);
    const corrupt = join(dir, 'corrupt.weights.bin');
    await writeFile(corrupt, encodeWeights(awkwardWeights()).subarray(0, 300));
    await expect(readWeightsFile(corrupt)).rejects.toThrow(`${corrupt}: truncated: the manifest needs bytes`);
  });
});

describe('the format module runs in browsers', () => {
  it('imports nothing from Node, directly or through its imports', () => {
    const seen = new Set<string>();
    const visit = (url: URL) => {
      if (seen.has(url.href)) return;
      seen.add(url.href);
      const source = readFileSync(url, 'utf8');
      for (const [, specifier] of source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
        expect(specifier.startsWith('.'), `${url.pathname} imports ${specifier}`).toBe(true);
        visit(new URL(specifier, url));
      }
    };
    visit(new URL('../../src/ir/weights_file.ts', import.meta.url));
    expect([...seen].map((u) => u.split('/src/')[1]).sort()).toEqual([
      'ir/digest.ts',
      'ir/elementwise.ts',
      'ir/errors.ts',
      'ir/types.ts',
      'ir/weights_file.ts',
    ]);
  });
});
