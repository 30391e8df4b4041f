// ONNX TensorProto <-> plain constant data. Floats (float32 or float64) become a Float32Array,
// integers (int64, int32, int8, uint8, bool) a number array. Data may sit in raw_data (little-endian
// bytes, what PyTorch writes) or in the typed repeated fields (float_data, int64_data, ...).
import { SlimcError } from '../../ir/errors.ts';
import { DataType, type OnnxTensor } from './proto.ts';

export type ConstTensor =
  | { readonly kind: 'float'; readonly dims: readonly number[]; readonly data: Float32Array }
  | { readonly kind: 'int'; readonly dims: readonly number[]; readonly data: readonly number[] };

export const elementCount = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

const DATA_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'undefined',
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

export const dataTypeName = (t: number | undefined) => DATA_TYPE_NAMES[t ?? 0] ?? `data type ${t}`;

const EXTERNAL = 1;

/** Reads a TensorProto; `where` names it in errors (`initializer 'conv1.weight'`). */
export function decodeTensor(t: OnnxTensor, where: string): ConstTensor {
  if (t.dataLocation === EXTERNAL) {
    throw new SlimcError(
      `keeps its data in an external file, which slimc does not read: save the model with its weights inside ` +
        `(onnx.save(onnx.load(path), out, save_as_external_data=False))`,
      where,
    );
  }
  const dims = t.dims.map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new SlimcError(`has invalid dimensions [${dims.join(',')}]`, where);
  const count = elementCount(dims);
  const raw = t.rawData && t.rawData.length > 0 ? new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength) : null;
  const expectBytes = (size: number) => {
    if (raw && raw.byteLength !== count * size) {
      throw new SlimcError(
        `raw_data holds ${raw.byteLength} bytes but ${count} values of ${size} bytes need ${count * size} (truncated or corrupt file?)`,
        where,
      );
    }
  };
  const expectLength = (n: number) => {
    if (n !== count)
      throw new SlimcError(`holds ${n} values but its shape [${dims.join(',')}] needs ${count} (truncated or corrupt file?)`, where);
  };
  const type = t.dataType ?? 0;
  switch (type) {
    case DataType.FLOAT:
    case DataType.DOUBLE: {
      const size = type === DataType.FLOAT ? 4 : 8;
      expectBytes(size);
      const data = new Float32Array(count);
      if (raw) {
        for (let i = 0; i < count; i++) data[i] = size === 4 ? raw.getFloat32(4 * i, true) : raw.getFloat64(8 * i, true);
      } else {
        const values = type === DataType.FLOAT ? t.floatData : t.doubleData;
        expectLength(values.length);
        data.set(values);
      }
      return { kind: 'float', dims, data };
    }
    case DataType.INT64: {
      expectBytes(8);
      const data = raw ? Array.from({ length: count }, (_, i) => Number(raw.getBigInt64(8 * i, true))) : t.int64Data.map(Number);
      expectLength(data.length);
      return { kind: 'int', dims, data };
    }
    case DataType.INT32:
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.BOOL: {
      const size = type === DataType.INT32 ? 4 : 1;
      expectBytes(size);
      const read = (view: DataView, i: number) =>
        type === DataType.INT32 ? view.getInt32(4 * i, true) : type === DataType.INT8 ? view.getInt8(i) : view.getUint8(i);
      const data = raw ? Array.from({ length: count }, (_, i) => read(raw, i)) : t.int32Data.map(Number);
      expectLength(data.length);
      return { kind: 'int', dims, data };
    }
    default:
      throw new SlimcError(
        `has element type ${dataTypeName(type)}, which slimc does not read (float, double and integer tensors only)`,
        where,
      );
  }
}

/** A float32 TensorProto with its data in raw_data (little-endian), as PyTorch writes them. */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): OnnxTensor {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: bytes, floatData: [], int32Data: [], int64Data: [], doubleData: [] };
}

/** An int64 TensorProto with its data in raw_data (little-endian). */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): OnnxTensor {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: bytes, floatData: [], int32Data: [], int64Data: [], doubleData: [] };
}
