// Hand-built ONNX models for tests of importer paths that PyTorch's exports of the fixtures do not
// take (MatMul + Add, auto_pad, ReduceMean, opset 18 inputs, ...). No vitest import.
import {
  AttributeType,
  DataType,
  encodeModel,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
} from '../../src/frontends/onnx/proto.ts';
import { floatTensor, int64Tensor } from '../../src/frontends/onnx/tensor.ts';
import { Rng } from '../../src/util/random.ts';

/** An attribute value: a typed wrapper, since ONNX tells ints from floats. */
export type AttributeValue =
  { i: number } | { f: number } | { ints: readonly number[] } | { floats: readonly number[] } | { s: string } | { t: OnnxTensor };

export interface NodeSpec {
  readonly op: string;
  readonly name?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface ModelSpec {
  readonly opset: number;
  /** Graph inputs with their ONNX dims (NCHW); a string dim is symbolic. */
  readonly inputs: readonly (readonly [string, readonly (number | string)[]])[];
  readonly outputs: readonly string[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers?: readonly OnnxTensor[];
}

function attribute(name: string, v: AttributeValue): OnnxAttribute {
  const base = { name, floats: [], ints: [], strings: [] };
  if ('i' in v) return { ...base, type: AttributeType.INT, i: v.i };
  if ('f' in v) return { ...base, type: AttributeType.FLOAT, f: v.f };
  if ('ints' in v) return { ...base, type: AttributeType.INTS, ints: [...v.ints] };
  if ('floats' in v) return { ...base, type: AttributeType.FLOATS, floats: [...v.floats] };
  if ('s' in v) return { ...base, type: AttributeType.STRING, s: new TextEncoder().encode(v.s) };
  return { ...base, type: AttributeType.TENSOR, t: v.t };
}

export function onnxModel(spec: ModelSpec): Uint8Array {
  const nodes: OnnxNode[] = spec.nodes.map((n, k) => ({
    opType: n.op,
    name: n.name ?? `${n.op}_${k}`,
    input: [...n.inputs],
    output: [...n.outputs],
    attribute: Object.entries(n.attributes ?? {}).map(([name, v]) => attribute(name, v)),
  }));
  const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  return encodeModel({
    irVersion: spec.opset >= 18 ? 8 : 7,
    producerName: 'test',
    opsetImport: [{ domain: '', version: spec.opset }],
    graph: {
      name: 'handmade',
      node: nodes,
      initializer: [...(spec.initializers ?? [])],
      input: spec.inputs.map(([name, dims]) => ({
        name,
        type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map(dim) } } },
      })),
      output: spec.outputs.map((name) => ({ name, type: { tensorType: { elemType: DataType.FLOAT } } })),
      valueInfo: [],
    },
  });
}

/** A float initializer of seeded normal samples (scaled), or of the given values. */
export function floats(
  name: string,
  dims: readonly number[],
  values: readonly number[] | { seed: number; scale?: number; offset?: number },
): OnnxTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (Array.isArray(values)) return floatTensor(name, dims, Float32Array.from(values as number[]));
  const { seed, scale = 1, offset = 0 } = values as { seed: number; scale?: number; offset?: number };
  const rng = new Rng(seed);
  return floatTensor(
    name,
    dims,
    rng.fill(n, () => offset + scale * rng.normal()),
  );
}

export const ints = (name: string, values: readonly number[], dims: readonly number[] = [values.length]): OnnxTensor =>
  int64Tensor(name, dims, values);
