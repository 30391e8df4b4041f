// The weights file (`*.weights.bin`): one self-describing binary file holding every tensor of a
// graph, read by the textual IR's loader; compiled models (in Node and in browsers) read the same format.
//
// Layout (all integers little-endian):
//
//   offset 0   8 bytes   magic "SLIMCWTS"
//          8   uint32    format version (1)
//         12   uint32    manifest length M in bytes
//         16   M bytes   manifest: UTF-8 JSON, see `Manifest`
//              zero padding up to the next multiple of 64: the data section starts there
//              tensors: float32 little-endian, each at data start + entry.offset, every offset a
//              multiple of 64 (zero padding between), so each tensor is 64-byte aligned in the file
//
// Each manifest entry carries the tensor's checksum, the same digest the textual IR prints
// (digest.ts), so a text file and its weights file can be checked against each other.
//
// This module is pure (no Node APIs). Compiled models decode the same format with their own copy
// of the decoder (codegen/runtime_source.ts), which must agree with this one. Reading and
// writing files is in weights_file_io.ts.
import { digestOf, isDigest, littleEndianBytes } from './digest.ts';
import { SlimcError } from './errors.ts';
import { RESERVED_NAME, type Weight, type Weights } from './types.ts';

export const WEIGHTS_MAGIC = 'SLIMCWTS';
export const WEIGHTS_FORMAT_VERSION = 1;
/** Alignment of the data section and of every tensor in it, in bytes. */
export const WEIGHTS_ALIGNMENT = 64;
const HEADER_BYTES = 16;

export interface ManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'f32';
  /** Byte offset of the tensor from the start of the data section (a multiple of 64). */
  readonly offset: number;
  readonly byteLength: number;
  /** digestOf(shape, data): 8 hex digits. */
  readonly checksum: string;
}

export interface Manifest {
  readonly tensors: readonly ManifestEntry[];
}

const alignUp = (n: number) => Math.ceil(n / WEIGHTS_ALIGNMENT) * WEIGHTS_ALIGNMENT;
const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The manifest and where everything goes; `checksum` gives each tensor's digest. */
function fileLayout(weights: Weights, checksum: (w: Weight) => string) {
  const tensors: ManifestEntry[] = [];
  let dataLength = 0;
  for (const [name, w] of Object.entries(weights)) {
    if (w.data.length !== elementCount(w.shape)) {
      throw new SlimcError(`has ${w.data.length} values but shape [${w.shape.join(',')}] needs ${elementCount(w.shape)}`, `@${name}`);
    }
    const offset = alignUp(dataLength);
    tensors.push({ name, shape: [...w.shape], dtype: 'f32', offset, byteLength: w.data.byteLength, checksum: checksum(w) });
    dataLength = offset + w.data.byteLength;
  }
  const manifestBytes = new TextEncoder().encode(JSON.stringify({ tensors } satisfies Manifest));
  return { tensors, manifestBytes, dataStart: alignUp(HEADER_BYTES + manifestBytes.length), dataLength };
}

/** The byte size encodeWeights(weights) has, without encoding (a digest is always 8 hex digits). */
export function encodedWeightsSize(weights: Weights): number {
  const { dataStart, dataLength } = fileLayout(weights, () => '00000000');
  return dataStart + dataLength;
}

/** Encodes weights, in their key order, as a weights file. */
export function encodeWeights(weights: Weights): Uint8Array {
  const { tensors, manifestBytes, dataStart, dataLength } = fileLayout(weights, (w) => digestOf(w.shape, w.data));
  const file = new Uint8Array(dataStart + dataLength);
  file.set(new TextEncoder().encode(WEIGHTS_MAGIC), 0);
  const header = new DataView(file.buffer);
  header.setUint32(8, WEIGHTS_FORMAT_VERSION, true);
  header.setUint32(12, manifestBytes.length, true);
  file.set(manifestBytes, HEADER_BYTES);
  tensors.forEach((t) => file.set(littleEndianBytes(weights[t.name].data), dataStart + t.offset));
  return file;
}

/** Where the manifest is and where the data section starts; checks magic and version. */
function readHeader(bytes: Uint8Array, source: string): { manifest: Uint8Array; dataStart: number } {
  if (bytes.length < HEADER_BYTES) {
    throw new SlimcError(`truncated: a weights file starts with a ${HEADER_BYTES}-byte header, this one has ${bytes.length} bytes`, source);
  }
  const magic = String.fromCharCode(...bytes.subarray(0, WEIGHTS_MAGIC.length));
  if (magic !== WEIGHTS_MAGIC) {
    throw new SlimcError(`not a slimc weights file (it should start with "${WEIGHTS_MAGIC}", found ${JSON.stringify(magic)})`, source);
  }
  const header = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const version = header.getUint32(8, true);
  if (version !== WEIGHTS_FORMAT_VERSION) {
    throw new SlimcError(
      `weights file format version ${version} is not supported (this slimc reads version ${WEIGHTS_FORMAT_VERSION})`,
      source,
    );
  }
  const manifestLength = header.getUint32(12, true);
  if (HEADER_BYTES + manifestLength > bytes.length) {
    throw new SlimcError(
      `truncated: the manifest needs bytes ${HEADER_BYTES}..${HEADER_BYTES + manifestLength}, the file has ${bytes.length}`,
      source,
    );
  }
  return { manifest: bytes.subarray(HEADER_BYTES, HEADER_BYTES + manifestLength), dataStart: alignUp(HEADER_BYTES + manifestLength) };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks one manifest entry's fields; names the entry (by index, and by name when it has one). */
function checkEntry(raw: unknown, index: number, source: string): ManifestEntry {
  const name = isRecord(raw) && typeof raw.name === 'string' ? raw.name : undefined;
  const bad = (what: string): never => {
    throw new SlimcError(`manifest entry ${index}${name === undefined ? '' : ` (@${name})`}: ${what}`, source);
  };
  if (!isRecord(raw)) return bad('is not an object');
  if (name === undefined) return bad('has no string "name"');
  // Weights are held by name in plain records, where this name would set the prototype instead.
  if (name === RESERVED_NAME) return bad(`"${RESERVED_NAME}" cannot name a weight`);
  const { shape, dtype, offset, byteLength, checksum } = raw;
  if (!Array.isArray(shape) || !shape.every(isCount)) return bad('"shape" must be an array of non-negative integers');
  if (dtype !== 'f32') return bad(`dtype ${JSON.stringify(dtype)} is not supported (f32 only)`);
  if (!isCount(offset) || offset % WEIGHTS_ALIGNMENT !== 0) return bad(`"offset" must be a non-negative multiple of ${WEIGHTS_ALIGNMENT}`);
  if (byteLength !== 4 * elementCount(shape))
    return bad(`"byteLength" is ${JSON.stringify(byteLength)} but shape [${shape.join(',')}] needs ${4 * elementCount(shape)}`);
  if (typeof checksum !== 'string' || !isDigest(checksum)) return bad('"checksum" must be 8 lowercase hex digits');
  return { name, shape, dtype, offset, byteLength: 4 * elementCount(shape), checksum };
}

/** Reads and checks the manifest of a weights file (magic, version, every entry's fields). */
export function decodeManifest(bytes: Uint8Array, source = '<buffer>'): Manifest & { readonly dataStart: number } {
  const { manifest, dataStart } = readHeader(bytes, source);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifest));
  } catch (e) {
    throw new SlimcError(`the manifest is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`, source);
  }
  if (!isRecord(json) || !Array.isArray(json.tensors)) throw new SlimcError('the manifest has no "tensors" array', source);
  const tensors = json.tensors.map((t, i) => checkEntry(t, i, source));
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new SlimcError(`the manifest lists tensor @${t.name} twice`, source);
    seen.add(t.name);
  }
  return { tensors, dataStart };
}

function readFloats(bytes: Uint8Array, start: number, byteLength: number): Float32Array {
  // Uint8Array.prototype.slice copies; a Node Buffer's own slice() would return a view instead.
  const copy = Uint8Array.prototype.slice.call(bytes, start, start + byteLength);
  if (hostIsLittleEndian) return new Float32Array(copy.buffer, 0, byteLength / 4);
  const view = new DataView(copy.buffer);
  return Float32Array.from({ length: byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

/**
 * Decodes a weights file, checking its magic, version, manifest, the bounds of every tensor and
 * every checksum. Errors are SlimcErrors naming `source` and the tensor. The returned arrays are
 * copies: they do not alias `bytes`.
 */
export function decodeWeights(bytes: Uint8Array, source = '<buffer>'): Weights {
  const { tensors, dataStart } = decodeManifest(bytes, source);
  const weights: Record<string, Weight> = {};
  for (const t of tensors) {
    const start = dataStart + t.offset;
    if (start + t.byteLength > bytes.length) {
      throw new SlimcError(
        `truncated: tensor @${t.name} needs bytes ${start}..${start + t.byteLength}, the file has ${bytes.length}`,
        source,
      );
    }
    const data = readFloats(bytes, start, t.byteLength);
    const digest = digestOf(t.shape, data);
    if (digest !== t.checksum) {
      throw new SlimcError(`tensor @${t.name} is corrupt: its data digests to #${digest}, the manifest says #${t.checksum}`, source);
    }
    weights[t.name] = { shape: t.shape, data };
  }
  return weights;
}
