// Assembles the emitted ES module (model.js), its declarations (model.d.ts) and the weights
// file from a lowered graph. Pure: returns texts and bytes; writing them is the caller's job.
import { cost } from '../ir/cost.ts';
import { graphInputs } from '../ir/node.ts';
import type { Graph, Weight, WeightName } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';
import { encodeWeights } from '../ir/weights_file.ts';
import { commentName, jsLiteral, tsPropertyName } from './escape.ts';
import { emitForward, type ForwardCode } from './emit_forward.ts';
import { channelKernelsSource, type ChannelKernel } from './channel_kernels_source.ts';
import { HELPERS } from './helpers.ts';
import {
  NCHW_BORDER_SOURCE,
  NHWC_BORDER_SOURCE,
  RUNTIME_CORE_IMPORTS,
  RUNTIME_FEATURE_IMPORTS,
  RUNTIME_SOURCE,
  RUNTIME_WASM_IMPORTS,
} from './runtime_source.ts';

export const COMPILER = 'slimc 0.1.0';
export const MODULE_FILE = 'model.js';
export const DECLARATIONS_FILE = 'model.d.ts';
export const WEIGHTS_FILE = 'model.weights.bin';

export type BorderLayout = 'NHWC' | 'NCHW' | 'NC';

/** An input or output as callers see it: shapes in the source model's layout. */
export interface BorderValue {
  readonly name: string;
  /** With the batch the graph records as dimension 0 (any batch N is accepted). */
  readonly shape: readonly number[];
  readonly layout: BorderLayout;
}

/** The static part of `m.info`. */
export interface ModelInfo {
  readonly name: string;
  readonly inputs: readonly BorderValue[];
  readonly outputs: readonly BorderValue[];
  readonly params: number;
  /** Multiply-accumulates of conv and dense layers per sample. */
  readonly macs: number;
  /** 2 x MACs, the Network Slimming paper's convention. */
  readonly flops: number;
  readonly compiler: string;
}

export interface EmittedModule {
  readonly js: string;
  readonly dts: string;
  readonly weights: Uint8Array;
  readonly info: ModelInfo;
  readonly forward: ForwardCode;
}

export interface EmitOptions {
  /**
   * `// %id` comments naming each statement's IR value: always, never, or (default) unless the
   * module would then exceed ANNOTATION_BUDGET bytes.
   */
  readonly annotate?: boolean | 'auto';
}

/** Past this size, 'auto' leaves out the per-statement comments (the target is under 50 KB). */
export const ANNOTATION_BUDGET = 44 * 1024;

/** NCHW for 4-D values of graphs imported with an NCHW border; NHWC or NC otherwise. */
function borderValue(graph: Graph, name: string, shape: readonly number[]): BorderValue {
  if (shape.length !== 4) return { name, shape, layout: shape.length === 2 ? 'NC' : 'NHWC' };
  if (graph.layout?.input !== 'NCHW') return { name, shape, layout: 'NHWC' };
  const [n, h, w, c] = shape;
  return { name, shape: [n, c, h, w], layout: 'NCHW' };
}

export function modelInfo(graph: Graph): ModelInfo {
  const { params, macs, flops } = cost(graph);
  const types = new Map(graph.nodes.map((n) => [n.id, n.type.shape]));
  return {
    name: graph.name,
    inputs: graphInputs(graph).map((n) => borderValue(graph, n.id, n.type.shape)),
    outputs: graph.outputs.map((v) => borderValue(graph, v, types.get(v) as readonly number[])),
    params,
    macs,
    flops,
    compiler: COMPILER,
  };
}

/** FNV-1a as the runtime's digest([], bytes): a uint32 zero (rank 0), then the bytes. */
function layoutDigest(text: string): string {
  let h = 0x811c9dc5;
  for (const b of [0, 0, 0, 0, ...new TextEncoder().encode(text)]) h = Math.imul(h ^ b, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}


/** The module, its declarations and its weights file for a lowered, valid graph. */
export function emitModule(graph: Graph, opts: EmitOptions = {}): EmittedModule {
  verify(graph);
  const annotate = opts.annotate ?? 'auto';
  if (annotate === 'auto') {
    const annotated = assemble(graph, emitForward(graph, { annotate: true }), true);
    if (new TextEncoder().encode(annotated.js).length <= ANNOTATION_BUDGET) return annotated;
    return assemble(graph, emitForward(graph, { annotate: false }), false);
  }
  return assemble(graph, emitForward(graph, { annotate }), annotate);
}

function assemble(graph: Graph, forward: ForwardCode, annotated: boolean): EmittedModule {
  const info = modelInfo(graph);

  // The file holds each weight once, in order of first use; W[i] reads file entry UPLOAD_FROM[i].
  const fileOrder: WeightName[] = [];
  for (const w of forward.weights) if (!fileOrder.includes(w.name)) fileOrder.push(w.name);
  const fileWeights: Record<WeightName, Weight> = {};
  for (const name of fileOrder) fileWeights[name] = graph.weights[name];
  const weights = encodeWeights(fileWeights);
  const uploadFrom: Record<number, number> = {};
  const uploadShapes: Record<number, readonly number[]> = {};
  forward.weights.forEach((w, i) => {
    if (fileOrder.indexOf(w.name) !== i) uploadFrom[i] = fileOrder.indexOf(w.name);
    if (w.uploadShape !== null) uploadShapes[i] = w.uploadShape;
  });
  // The runtime digests JSON.stringify of the manifest's names and shapes: the same text here.
  const layout = layoutDigest(JSON.stringify(fileOrder.map((name) => [name, graph.weights[name].shape])));

  const nchw = info.inputs.some((v) => v.layout === 'NCHW') || info.outputs.some((v) => v.layout === 'NCHW');
  const kernels = (['gather', 'concat'] as const).filter((k: ChannelKernel) => forward.helpers.includes(k));
  const coreImports = new Set<string>([
    ...RUNTIME_CORE_IMPORTS,
    ...forward.helpers.flatMap((h) => HELPERS[h].imports),
    ...(forward.constants.some(([dtype]) => dtype === 'float32') ? RUNTIME_FEATURE_IMPORTS.constants : []),
    ...(kernels.length > 0 ? RUNTIME_FEATURE_IMPORTS.kernels : []),
    ...(nchw ? RUNTIME_FEATURE_IMPORTS.nchw : []),
  ]);
  const definitions = forward.helpers.map((h) => HELPERS[h].source);
  const runtimeInfo = {
    ...info,
    inputs: info.inputs.map((v) => ({ ...v, sampleShape: v.shape.slice(1) })),
  };

  const js = [
    `// ${commentName(graph.name)}: compiled by ${COMPILER} for TensorFlow.js (tfjs-backend-wasm). Do not edit; recompile.`,
    `// Final IR: model.slim. Weights: ${WEIGHTS_FILE} (checked against its manifest at load).`,
    ...(annotated ? [] : ['// vN in forward() is the value of node N of the final IR, in model.slim order (comments naming each are left out: size).']),
    `import { ${[...coreImports].sort().join(', ')} } from '@tensorflow/tfjs-core';`,
    `import { ${[...RUNTIME_WASM_IMPORTS].join(', ')} } from '@tensorflow/tfjs-backend-wasm';`,
    '',
    `const INFO = ${jsLiteral(runtimeInfo)};`,
    `const WEIGHTS_FILE = ${jsLiteral(WEIGHTS_FILE)};`,
    `/** Digest of the weights file's tensor names and shapes this module was compiled with. */`,
    `const WEIGHTS_LAYOUT = ${jsLiteral(layout)};`,
    `const WEIGHT_COUNT = ${forward.weights.length};`,
    `/** Tensors uploaded in another shape than the IR's (depthwise filters: [kh, kw, C, multiplier]). */`,
    `const UPLOAD_SHAPES = ${jsLiteral(uploadShapes)};`,
    `const UPLOAD_FROM = ${jsLiteral(uploadFrom)};`,
    ...constantsSource(forward),
    nchw ? NCHW_BORDER_SOURCE.trim() : NHWC_BORDER_SOURCE.trim(),
    channelKernelsSource(kernels),
    '',
    ...definitions,
    '',
    forward.source,
    RUNTIME_SOURCE,
  ].join('\n');

  return { js, dts: emitDeclarations(info), weights, info, forward };
}

/** makeConstants(), and the mask decoder when a constant needs it. */
function constantsSource(forward: ForwardCode): string[] {
  if (forward.constants.length === 0) return ['const makeConstants = () => [];'];
  const masks = forward.constants.some(([, values]) => typeof values === 'string');
  return [
    ...(masks
      ? [
          '/** Channel indices from a base64 bit mask (bit i of byte i >> 3: channel 8 * (i >> 3) + (i & 7)). */',
          'const maskIndices = (mask) => [...atob(mask)].flatMap((ch, byte) => [0, 1, 2, 3, 4, 5, 6, 7].filter((bit) => (ch.charCodeAt(0) >> bit) & 1).map((bit) => 8 * byte + bit));',
        ]
      : []),
    '/** Float constants are tensors; channel indices are Int32Arrays (the gather kernel takes them as an attribute). */',
    `const makeConstants = () => ${jsLiteral(forward.constants)}.map(([dtype, values]) => {`,
    `  const list = ${masks ? "typeof values === 'string' ? maskIndices(values) : values" : 'values'};`,
    forward.constants.some(([dtype]) => dtype === 'float32')
      ? "  return dtype === 'int32' ? Int32Array.from(list) : tensor1d(list, dtype);"
      : '  return Int32Array.from(list);',
    '});',
  ];
}


/** model.d.ts: the module API, with this model's input and output names. */
export function emitDeclarations(info: ModelInfo): string {
  const inputType = 'Float32Array | Tensor';
  const predictArg =
    info.inputs.length === 1 ? `x: ${inputType}` : `x: { ${info.inputs.map((i) => `readonly ${tsPropertyName(i.name)}: ${inputType};`).join(' ')} }`;
  const predictResult =
    info.outputs.length === 1 ? 'Float32Array' : `{ ${info.outputs.map((o) => `readonly ${tsPropertyName(o.name)}: Float32Array;`).join(' ')} }`;
  return `// ${commentName(info.name)}: compiled by ${info.compiler}. Declarations of model.js.
import type { Tensor } from '@tensorflow/tfjs-core';

export interface BorderValue {
  readonly name: string;
  /** Dimension 0 is the batch the model was built for; predict accepts any batch N. */
  readonly shape: readonly number[];
  readonly layout: 'NHWC' | 'NCHW' | 'NC';
}

export interface InputValue extends BorderValue {
  /** The shape of one sample: shape without the batch dimension. */
  readonly sampleShape: readonly number[];
}

export interface BackendInfo {
  readonly name: 'wasm';
  /** The wasm binary that runs: plain SIMD unless threads were asked for and obtained. */
  readonly variant: 'wasm' | 'wasm-simd' | 'wasm-threaded-simd';
  readonly simd: boolean;
  readonly threads: number;
  /** Why fewer threads run than were asked for, when that is known. */
  readonly note?: string;
}

export interface ModelInfo {
  readonly name: string;
  readonly inputs: readonly InputValue[];
  readonly outputs: readonly BorderValue[];
  readonly params: number;
  /** Multiply-accumulates of conv and dense layers per sample. */
  readonly macs: number;
  /** 2 x macs (the Network Slimming paper's convention). */
  readonly flops: number;
  readonly compiler: string;
  readonly backend: BackendInfo;
}

export interface LoadOptions {
  /** The weights file: a path (Node), a URL, or its bytes. Default: ${WEIGHTS_FILE} next to model.js. */
  readonly weights?: string | URL | ArrayBuffer | Uint8Array;
  /** Where tfjs-backend-wasm's .wasm files are: a directory URL, or a map by file name. */
  readonly wasmPath?: string | Readonly<Record<string, string>>;
  /** Threads to run on (default 1: the plain SIMD build). See info.backend for what runs. */
  readonly threads?: number;
}

export interface Model {
  readonly info: ModelInfo;
  /** Runs the model on a batch in the source model's layout (${info.inputs.map((i) => `${commentName(i.name)}: [N,${i.shape.slice(1).join(',')}] ${i.layout}`).join('; ')}). */
  predict(${predictArg}): Promise<${predictResult}>;
  /** One prediction on zeros, so that the first real one does not pay for kernel setup. */
  warmup(): Promise<void>;
  /** Frees the model's weight tensors. */
  dispose(): void;
}

/** Errors a caller can act on (wrong input shape, corrupt weights file); the message names the place. */
export declare class SlimcModelError extends Error {}

export declare function load(opts?: LoadOptions): Promise<Model>;
`;
}
