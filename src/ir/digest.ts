// A short deterministic digest of a weight: FNV-1a (32-bit) over its shape and its float32 data
// as little-endian bytes, printed as 8 hex digits. The textual IR prints it in place of the
// numbers and the weights file stores it as each tensor's checksum, so one function serves both.
// Bytes, not values, are hashed: -0 and 0, and NaNs with different payloads, digest differently,
// which is what "bit-exact" means. Pure: no Node APIs. The emitted runtime carries its own copy
// (codegen/runtime_source.ts), which must agree with this one.
import type { Weight } from './types.ts';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The little-endian bytes of float32 data (a view on little-endian hosts, a copy otherwise). */
export function littleEndianBytes(data: Float32Array): Uint8Array {
  if (hostIsLittleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  data.forEach((x, i) => view.setFloat32(4 * i, x, true));
  return bytes;
}

function fnv1a(hash: number, bytes: Uint8Array): number {
  let h = hash;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME);
  return h;
}

/** FNV-1a of the shape (rank, then each dimension as uint32 LE) followed by the data bytes. */
export function digestOf(shape: readonly number[], data: Float32Array): string {
  const header = new DataView(new ArrayBuffer(4 * (shape.length + 1)));
  header.setUint32(0, shape.length, true);
  shape.forEach((d, i) => header.setUint32(4 * (i + 1), d, true));
  let h = fnv1a(FNV_OFFSET, new Uint8Array(header.buffer));
  h = fnv1a(h, littleEndianBytes(data));
  return (h >>> 0).toString(16).padStart(8, '0');
}

export const weightDigest = (weight: Weight): string => digestOf(weight.shape, weight.data);

/** Whether `text` has the form of a digest (8 lowercase hex digits). */
export const isDigest = (text: string): boolean => /^[0-9a-f]{8}$/.test(text);
