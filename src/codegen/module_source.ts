// Assembles the emitted ES module (model.js), its declarations (model.d.ts) and the weights
// file from a lowered graph. Pure: returns texts and bytes; writing them is the caller's job.
import { readFileSync } from 'node:fs';
import { cost } from '../ir/cost.ts';
import { graphInputs } from '../ir/node.ts';
import type { Graph, Weight, WeightName } from '../ir/types.ts';
import { verify } from '../ir/verify.ts';
import { encodeWeights } from '../ir/weights_file.ts';
import { jsLiteral, tsPropertyName } from './escape.ts';
import { emitForward, type ForwardCode } from './emit_forward.ts';
import { HELPERS } from './helpers.ts';
import { encodeStep } from './plan/build_plan.ts';
import type { PlanStep } from './plan/plan_types.ts';
import type { BorderValue } from './runtime/model_api.ts';
import type { RuntimeModelInfo } from './runtime/model_spec.ts';

export type { BorderValue } from './runtime/model_api.ts';

export const COMPILER = 'slimc 0.1.0';
export const MODULE_FILE = 'model.js';
export const DECLARATIONS_FILE = 'model.d.ts';
export const WEIGHTS_FILE = 'model.weights.bin';

/** The static part of `m.info` as the compiler reports it: the inputs without their sample shapes. */
export interface ModelInfo extends Omit<RuntimeModelInfo, 'inputs'> {
  readonly inputs: readonly BorderValue[];
}

export interface EmittedModule {
  readonly js: string;
  readonly dts: string;
  readonly weights: Uint8Array;
  readonly info: ModelInfo;
  readonly forward: ForwardCode;
  /** The model-specific part of model.js (what codegen baselines hold): engine forward pass and MODEL. */
  readonly modelSource: string;
}

export interface EmitOptions {
  /**
   * `// %id` comments naming each statement's IR value: always, never, or (default) unless the
   * model-specific part of the module would then exceed ANNOTATION_BUDGET bytes.
   */
  readonly annotate?: boolean | 'auto';
}

/** Past this size of the model-specific part, 'auto' leaves out the per-statement comments. */
export const ANNOTATION_BUDGET = 44 * 1024;

/** NCHW for 4-D values of graphs imported with an NCHW border; NHWC or NC otherwise. */
function borderValue(graph: Graph, name: string, shape: readonly number[]): BorderValue {
  if (shape.length !== 4) return { name, shape, layout: shape.length === 2 ? 'NC' : 'NHWC' };
  if (graph.layout?.input !== 'NCHW') return { name, shape, layout: 'NHWC' };
  const [n, h, w, c] = shape;
  return { name, shape: [n, c, h, w], layout: 'NCHW' };
}

export function modelInfo(graph: Graph, peakActivationBytes: number): ModelInfo {
  const { params, macs, flops } = cost(graph);
  const types = new Map(graph.nodes.map((n) => [n.id, n.type.shape]));
  return {
    name: graph.name,
    inputs: graphInputs(graph).map((n) => borderValue(graph, n.id, n.type.shape)),
    outputs: graph.outputs.map((v) => borderValue(graph, v, types.get(v) as readonly number[])),
    params,
    macs,
    flops,
    peakActivationBytes,
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
    if (new TextEncoder().encode(annotated.modelSource).length <= ANNOTATION_BUDGET) return annotated;
    return assemble(graph, emitForward(graph, { annotate: false }), false);
  }
  return assemble(graph, emitForward(graph, { annotate }), annotate);
}

/** The runtime's source (a checked JS module), read once. */
let runtimeText: string | null = null;
const runtimeSource = () => (runtimeText ??= readFileSync(new URL('./runtime/model_runtime.js', import.meta.url), 'utf8'));

/** The model-independent declarations of model.d.ts (a checked TS module), without its header comment, read once. */
let apiText: string | null = null;
const apiDeclarations = () =>
  (apiText ??= readFileSync(new URL('./runtime/model_api.ts', import.meta.url), 'utf8').replace(/^(\/\/.*\n|\n)*/, ''));

/**
 * The runtime split into its imports (by package) and its body, as the emitted module inlines it:
 * without its comments and indentation (the source file keeps them; the comments would double the
 * module's size). Dropping indentation is safe: the runtime has no string spanning lines.
 */
export function runtimeParts(): { readonly imports: ReadonlyMap<string, readonly string[]>; readonly body: string } {
  const imports = new Map<string, string[]>();
  // Named imports, on one line or wrapped over several (as the formatter leaves long ones).
  const source = runtimeSource().replace(/^import \{([^}]+)\} from '([^']+)';$/gm, (_, names: string, from: string) => {
    imports.set(from, [
      ...(imports.get(from) ?? []),
      ...names
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
    ]);
    return '';
  });
  const body: string[] = [];
  let inComment = false;
  for (const line of source.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('import ')) throw new Error(`model_runtime.js: an import the emitter cannot inline: ${trimmed}`);
    if (inComment) inComment = !trimmed.endsWith('*/');
    else if (trimmed.startsWith('/*')) inComment = !trimmed.endsWith('*/');
    else if (!trimmed.startsWith('//') && trimmed !== '') body.push(trimmed);
  }
  // The runtime exports functions for its tests; model.js exports only what module_source adds.
  // Inline type casts (`/** @type {T} */ (x)`) are for tsc only: model.js keeps `(x)`.
  const text = body
    .join('\n')
    .replace(/^export (async )?function /gm, '$1function ')
    .replace(/\/\*\* @type \{[^\n]*?\} \*\/ /g, '');
  if (!text.includes('\nasync function loadModel(')) throw new Error('model_runtime.js: loadModel not found');
  return { imports, body: text };
}

/** Every literal in model.js goes through the one escaping function (escape.ts). */
const json = jsLiteral;

/** One plan step as a line: its op and name first, so a reader can follow the walk. */
const stepLine = (step: PlanStep) => `      ${json(encodeStep(step))},`;

/** The tfjs-backend-wasm version whose kernel exports the plan calls (slimc pins it exactly). */
export const BACKEND_VERSION = '4.22.0';

function assemble(graph: Graph, forward: ForwardCode, annotated: boolean): EmittedModule {
  const plan = forward.plan;
  const info = modelInfo(graph, plan.arena * 4);

  // The file holds each weight once, in order of first use; W[i] reads file entry uploadFrom[i].
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

  const runtime = runtimeParts();
  const coreImports = new Set<string>([
    ...(runtime.imports.get('@tensorflow/tfjs-core') ?? []),
    ...forward.helpers.flatMap((h) => HELPERS[h].imports),
  ]);
  const wasmImports = runtime.imports.get('@tensorflow/tfjs-backend-wasm') ?? [];
  const runtimeInfo: RuntimeModelInfo = { ...info, inputs: info.inputs.map((v) => ({ ...v, sampleShape: v.shape.slice(1) })) };
  const planLines =
    forward.planUnsupported !== null
      ? ['  plan: null,']
      : [
          '  plan: {',
          `    arena: ${plan.arena},`,
          `    slots: ${json(plan.slots.map((s) => [s.offset, s.size]))},`,
          `    values: ${json(plan.values.map((v) => [v.slot, v.shape]))},`,
          `    inputs: ${json(plan.inputs)},`,
          `    outputs: ${json(plan.outputs)},`,
          `    exports: ${json(plan.exports)},`,
          '    steps: [',
          ...plan.steps.map(stepLine),
          '    ],',
          '  },',
        ];
  const modelSource = [
    ...forward.helpers.map((h) => HELPERS[h].source),
    '',
    forward.source,
    '',
    '/** Everything model-specific the runtime below reads. */',
    'const MODEL = {',
    `  info: ${json(runtimeInfo)},`,
    `  weightsFile: ${json(WEIGHTS_FILE)},`,
    `  weightsLayout: ${json(layout)},`,
    `  weightCount: ${forward.weights.length},`,
    `  uploadFrom: ${json(uploadFrom)},`,
    `  uploadShapes: ${json(uploadShapes)},`,
    `  backendVersion: ${json(BACKEND_VERSION)},`,
    ...planLines,
    `  planUnsupported: ${json(forward.planUnsupported)},`,
    `  arenaFloatsPerSample: ${plan.arena},`,
    `  constants: ${json(forward.constants)},`,
    '  forward,',
    '};',
    '',
    '/**',
    ' * Loads the model: starts the wasm backend (once per process) and the weights.',
    ' * opts.weights: path (Node), URL, ArrayBuffer or Uint8Array; default: the file next to this module.',
    " * opts.wasmPath: where the backend's .wasm files are (a directory URL, or a map by file name).",
    ' * opts.threads: threads to run on (default 1, the plain SIMD build); info.backend says what runs.',
    " * opts.runtime: 'plan' (default) or 'engine'; info.runtime says what runs, and why.",
    ' */',
    'export const load = (opts = {}) => loadModel(MODEL, opts);',
  ].join('\n');

  const js = [
    // No model-derived name goes into a comment (MODEL.info.name holds it, as a string literal).
    `// Compiled by ${COMPILER} for TensorFlow.js (tfjs-backend-wasm). Do not edit; recompile.`,
    `// Final IR: model.slim. Weights: ${WEIGHTS_FILE} (checked against its manifest at load).`,
    ...(annotated
      ? []
      : ['// vN in forward() is the value of node N of the final IR, in model.slim order (comments naming each are left out: size).']),
    `import { ${[...coreImports].sort().join(', ')} } from '@tensorflow/tfjs-core';`,
    `import { ${[...wasmImports].join(', ')} } from '@tensorflow/tfjs-backend-wasm';`,
    '',
    '// ---- this model ----',
    '',
    modelSource,
    '',
    '// ---- the runtime (slimc src/codegen/runtime/model_runtime.js) ----',
    '',
    runtime.body,
    '',
  ].join('\n');

  return { js, dts: emitDeclarations(info), weights, info, forward, modelSource };
}

const key = tsPropertyName;

/** model.d.ts: the module API, with this model's input and output names. */
export function emitDeclarations(info: ModelInfo): string {
  const inputType = 'Float32Array | Tensor';
  const predictArg =
    info.inputs.length === 1 ? `x: ${inputType}` : `x: { ${info.inputs.map((i) => `readonly ${key(i.name)}: ${inputType};`).join(' ')} }`;
  const predictResult =
    info.outputs.length === 1 ? 'Float32Array' : `{ ${info.outputs.map((o) => `readonly ${key(o.name)}: Float32Array;`).join(' ')} }`;
  const predictInto = predictResult.replaceAll('readonly ', '');
  return `// Compiled by ${info.compiler}. Declarations of model.js.
import type { Tensor } from '@tensorflow/tfjs-core';

${apiDeclarations()}
export interface PredictOptions {
  /** Where to write the output (returned): a Float32Array of its size (one per output name for several outputs). */
  readonly into?: ${predictInto};
}

export interface Model {
  readonly info: ModelInfo;
  /** Runs the model on a batch in the source model's layout (${info.inputs.map((i) => `[N,${i.shape.slice(1).join(',')}] ${i.layout}`).join('; ')}). */
  predict(${predictArg}, opts?: PredictOptions): Promise<${predictResult}>;
  /** One prediction on zeros, so that the first real one does not pay for kernel setup. */
  warmup(): Promise<void>;
  /** Times each step of the plan on x: median microseconds over opts.runs runs (default 20), in plan order. Plan runtime only. */
  profile(${predictArg}, opts?: { readonly runs?: number }): Promise<readonly StepTime[]>;
  /** Frees the model's weight tensors and its plans' memory. */
  dispose(): void;
}

/** Errors a caller can act on (wrong input shape, corrupt weights file); the message names the place. */
export declare class SlimcModelError extends Error {}

export declare function load(opts?: LoadOptions): Promise<Model>;
`;
}
