// The PyTorch-exported fixtures of test/fixtures/onnx (written by scripts/make_onnx_fixtures.py)
// and what PyTorch computed for them, plus the comparisons and the onnxruntime-web runner the
// ONNX tests share. No vitest import: scripts may use it too.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { importOnnxFile, nchwToNhwc, type OnnxImport } from '../../src/frontends/onnx/index.ts';

/** Fixtures with a masked reference (the BN-folded one has none: nothing left to prune). */
export const PRUNABLE_FIXTURES = [
  'vgg',
  'preresnet',
  'postresnet',
  'densenet',
  'selectresnet',
  'mobilenet',
  'shufflenetv2',
  'efficientnet',
  'mobilenetv3',
] as const;
export const ALL_FIXTURES = [...PRUNABLE_FIXTURES, 'vgg_folded'] as const;
export type FixtureName = (typeof ALL_FIXTURES)[number] | 'unsupported';

/** What the fixture script wrote beside each .onnx (see scripts/make_onnx_fixtures.py). */
export interface Expected {
  readonly model: string;
  readonly opset: number;
  /** NCHW. */
  readonly input_shape: readonly number[];
  readonly output_shape: readonly number[];
  readonly ratio: number;
  /** Inputs flattened in NCHW order. */
  readonly inputs: readonly (readonly number[])[];
  readonly full: readonly (readonly number[])[];
  readonly masked: readonly (readonly number[])[] | null;
  readonly kept_channels: Readonly<Record<string, number>> | null;
  readonly torch_params: number;
  readonly selection_params: number;
  readonly bn_nodes: number;
  readonly onnx_ops: readonly string[];
}

export const fixturePath = (name: FixtureName): string => fileURLToPath(new URL(`../fixtures/onnx/${name}.onnx`, import.meta.url));

export const expected = (name: FixtureName): Expected =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/onnx/${name}.json`, import.meta.url)), 'utf8')) as Expected;

export const importFixture = (name: FixtureName): OnnxImport => importOnnxFile(fixturePath(name));

/** Input k of a fixture in the IR's NHWC layout. */
export const nhwcInput = (e: Expected, k: number): Float32Array => nchwToNhwc(Float32Array.from(e.inputs[k]), e.input_shape);

/** Largest |actual - reference| relative to the largest |reference|. */
export function relativeError(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (actual.length !== reference.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(actual[i] - reference[i]);
    diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

export interface OrtFeed {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Runs an ONNX model in onnxruntime-web (wasm backend, one thread); outputs in the model's order. */
export async function runOnnxRuntime(model: Uint8Array, feeds: Readonly<Record<string, OrtFeed>>): Promise<Float32Array[]> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const tensors = Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, new ort.Tensor('float32', f.data, [...f.dims])]));
    const results = await session.run(tensors);
    return session.outputNames.map((name) => results[name].data as Float32Array);
  } finally {
    await session.release();
  }
}
