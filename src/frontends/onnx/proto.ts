// Reading and writing ONNX protobuf messages. The schema is onnx.proto beside this file (the ONNX
// project's own, committed verbatim), parsed once with protobufjs: no generated code, no network.
//
// The interfaces below describe the part of the schema slimc reads and writes, as protobufjs's
// toObject gives it with { longs: Number, enums: Number, arrays: true }: repeated fields are
// arrays (empty when absent), optional scalars are undefined when absent, bytes are Uint8Array.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { SlimcError } from '../../ir/errors.ts';

/** TensorProto.DataType values slimc handles. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface OnnxTensor {
  name?: string;
  dims: number[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  dataLocation?: number;
}

export interface OnnxAttribute {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute: OnnxAttribute[];
}

export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
}

export interface OnnxValueInfo {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim: OnnxDimension[] } } };
}

export interface OnnxGraph {
  name?: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

export interface OnnxOperatorSet {
  domain?: string;
  version?: number;
}

export interface OnnxModel {
  irVersion?: number;
  opsetImport: OnnxOperatorSet[];
  producerName?: string;
  producerVersion?: string;
  graph?: OnnxGraph;
}

let modelType: protobuf.Type | undefined;

/** The ModelProto message type, parsed from onnx.proto on first use. */
function modelProto(): protobuf.Type {
  if (!modelType) {
    const source = readFileSync(new URL('./onnx.proto', import.meta.url), 'utf8');
    modelType = protobuf.parse(source).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/**
 * Decodes a ModelProto. Anything protobufjs cannot read (a truncated file, a file that is not
 * ONNX) becomes a SlimcError naming `file`, never a raw decoder exception.
 */
export function decodeModel(bytes: Uint8Array, file: string): OnnxModel {
  const type = modelProto();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new SlimcError(`not a readable ONNX model: the file is truncated or corrupt (protobuf: ${reason})`, file);
  }
  // The schema fixes each field's type, so the converted object has the shape of OnnxModel.
  return type.toObject(message, { longs: Number, enums: Number, arrays: true }) as OnnxModel;
}

/** Encodes a ModelProto (int64 fields as numbers, bytes as Uint8Array). */
export function encodeModel(model: OnnxModel): Uint8Array {
  const type = modelProto();
  return type.encode(type.fromObject(model as unknown as Record<string, unknown>)).finish();
}
