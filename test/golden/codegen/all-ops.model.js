// "torch-jit export": compiled by slimc 0.1.0 for TensorFlow.js (tfjs-backend-wasm). Do not edit; recompile.
// Final IR: model.slim. Weights: model.weights.bin (checked against its manifest at load).
import { Tensor, conv2d, engine, env, fused, getBackend, getKernel, pad, registerKernel, setBackend, split, stridedSlice, tensor, tensor1d, tidy } from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const INFO = {"name":"torch-jit export","inputs":[{"name":"x","shape":[1,8,8,4],"layout":"NHWC","sampleShape":[8,8,4]},{"name":"in:2","shape":[1,10],"layout":"NC","sampleShape":[10]}],"outputs":[{"name":"prob \"out\"","shape":[1,5],"layout":"NC"},{"name":"/features/0/Conv","shape":[1,8,8,8],"layout":"NHWC"}],"params":818,"macs":26558,"flops":53116,"compiler":"slimc 0.1.0"};
const WEIGHTS_FILE = "model.weights.bin";
/** Digest of the weights file's tensor names and shapes this module was compiled with. */
const WEIGHTS_LAYOUT = "98513ab9";
const WEIGHT_COUNT = 15;
/** Tensors uploaded in another shape than the IR's (depthwise filters: [kh, kw, C, multiplier]). */
const UPLOAD_SHAPES = {"3":[3,3,8,1],"5":[1,1,12,1],"7":[1,1,12,1],"9":[1,1,12,1]};
const UPLOAD_FROM = {};
/** Float constants are tensors; channel indices are Int32Arrays (the gather kernel takes them as an attribute). */
const makeConstants = () => [["int32",[7,0,3,3]],["float32",[0]],["float32",[1]]].map(([dtype, values]) => {
  const list = values;
  return dtype === 'int32' ? Int32Array.from(list) : tensor1d(list, dtype);
});
const fromLayout = (t) => t;
const toLayout = (t) => t;
const copyRun = (heap, from, fromStride, to, toStride, length, pixels) => {
  if (length >= 16) {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) heap.copyWithin(to, from, from + length);
  } else if (length === 1) {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) heap[to] = heap[from];
  } else {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) for (let k = 0; k < length; k++) heap[to + k] = heap[from + k];
  }
};
// Heap views after makeOutput (allocating may grow, and so replace, the wasm memory); offsets in float32s.
const KERNELS = {
  // x[..., indices[j]] for each j: each run of consecutive indices is copied at once.
  'SlimcGatherChannels': ({ inputs: { x }, attrs: { indices }, backend }) => {
    const channels = x.shape[x.shape.length - 1];
    const kept = indices.length;
    const out = backend.makeOutput([...x.shape.slice(0, -1), kept], 'float32');
    if (kept === 0 || channels === 0) return out;
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const heap = new Float32Array(dst.buffer);
    const pixels = src.length / channels;
    for (let j = 0; j < kept; ) {
      let length = 1;
      while (j + length < kept && indices[j + length] === indices[j] + length) length++;
      copyRun(heap, (src.byteOffset >> 2) + indices[j], channels, (dst.byteOffset >> 2) + j, kept, length, pixels);
      j += length;
    }
    return out;
  },
  // The inputs side by side along the last axis, each one run per pixel.
  'SlimcConcatChannels': ({ inputs, backend }) => {
    const widths = inputs.map((x) => x.shape[x.shape.length - 1]);
    const total = widths.reduce((a, b) => a + b, 0);
    const out = backend.makeOutput([...inputs[0].shape.slice(0, -1), total], 'float32');
    if (total === 0) return out;
    const dst = backend.typedArrayFromHeap(out);
    const heap = new Float32Array(dst.buffer);
    const pixels = dst.length / total;
    let column = 0;
    inputs.forEach((x, i) => {
      if (widths[i] > 0) copyRun(heap, backend.typedArrayFromHeap(x).byteOffset >> 2, widths[i], (dst.byteOffset >> 2) + column, total, widths[i], pixels);
      column += widths[i];
    });
    return out;
  },
};
const registerKernels = () => {
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) if (!getKernel(kernelName, 'wasm')) registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
};

const add = (a, b) => engine().runKernel('Add', { a, b }, {});
const addN = (xs) => engine().runKernel('AddN', xs, {});
const avgPool = (x, k, s, p) => engine().runKernel('AvgPool', { x }, { filterSize: k, strides: s, pad: p, dimRoundingMode: undefined });
const padded = (x, p, v) => pad(x, [[0, 0], p[0], p[1], [0, 0]], v);
const avgPoolPadded = (x, k, s, p) => tidy(() => avgPool(padded(x, p, 0), k, s, 'valid'));
const batchNorm = (x, m, v, t, s, e) => engine().runKernel('FusedBatchNorm', { x, mean: m, variance: v, offset: t ?? undefined, scale: s ?? undefined }, { varianceEpsilon: e });
const concat = (xs) => engine().runKernel('SlimcConcatChannels', xs, {});
const conv = (x, w, b, s, p, d, a) => engine().runKernel('FusedConv2D', { x, filter: w, bias: b ?? undefined }, { strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined });
const dense = (x, w, b, a) => fused.matMul({ a: x, b: w, bias: b ?? undefined, activation: a });
const depthwise = (x, w, b, s, p, d, a) => engine().runKernel('FusedDepthwiseConv2D', { x, filter: w, bias: b ?? undefined }, { strides: s, pad: p, dataFormat: 'NHWC', dilations: d, dimRoundingMode: undefined, activation: a, leakyreluAlpha: undefined });
const everyNth = (y, sh, sw) => { const z = stridedSlice(y, [0, 0, 0, 0], y.shape, [1, sh, sw, 1]); y.dispose(); return z; };
const flatten = (x) => engine().runKernel('Reshape', { x }, { shape: [x.shape[0], -1] });
const free = (...values) => values.forEach((t) => t.dispose());
const gather = (x, indices) => engine().runKernel('SlimcGatherChannels', { x }, { indices });
const relu = (x) => engine().runKernel('Relu', { x }, {});
const relu6 = (x) => engine().runKernel('Relu6', { x }, {});
const act = (y, a) => { if (a === 'linear') return y; const z = a === 'relu' ? relu(y) : relu6(y); y.dispose(); return z; };
const groupConv = (x, w, b, g, s, p, d, a) => act(tidy(() => { const ws = split(w, g, 3); const y = concat(split(x, g, 3).map((xg, i) => conv2d(xg, ws[i], s, p, 'NHWC', d))); return b ? add(y, b) : y; }), a);
const maxPool = (x, k, s, p) => engine().runKernel('MaxPool', { x }, { filterSize: k, strides: s, pad: p, dimRoundingMode: undefined });
const mean = (x, axis, keepDims) => engine().runKernel('Mean', { x }, { axis, keepDims });
const softmax = (x, dim) => engine().runKernel('Softmax', { logits: x }, { dim });

function forward(W, K, [v0, v1]) {
  const v2 = conv(v0, W[0], W[1], 1, 'same', 1, 'relu'); free(v0); // %"/features/0/Conv"
  const v3 = everyNth(groupConv(v2, W[2], null, 2, 1, [[0, 0], [1, 0], [2, 1], [0, 0]], [1, 2], 'relu6'), 2, 1); // %grouped
  const v4 = depthwise(v3, W[3], W[4], 1, 'valid', 1, 'relu6'); free(v3); // %dw
  const v5 = maxPool(v4, 2, 2, 'same'); // %mp_same
  const v6 = avgPoolPadded(v4, 2, 1, [[1, 1], [1, 1]]); free(v4); // %ap_pad
  const v7 = avgPool(v6, 3, 1, 'valid'); // %ap_valid
  const v8 = maxPool(v6, 3, 1, [[0, 0], [0, 0], [1, 1], [0, 0]]); free(v6); // %mp_pad
  const v9 = mean(v5, [1, 2], true); free(v5); // %g1
  const v10 = mean(v7, [1, 2], true); free(v7); // %g2
  const v11 = mean(v8, [1, 2], true); free(v8); // %g3
  const v12 = addN([v9, v10, v11]); free(v9, v10, v11); // %sum3
  const v13 = gather(v12, K[0]); // %select
  const v14 = concat([v13, v12]); free(v12, v13); // %cat
  const v15 = depthwise(v14, W[5], W[6], 1, 'valid', 1, 'linear'); free(v14); // %ss_both
  const v16 = depthwise(v15, W[7], W[8], 1, 'valid', 1, 'linear'); free(v15); // %ss_shift
  const v17 = depthwise(v16, W[9], null, 1, 'valid', 1, 'linear'); free(v16); // %ss_scale
  const v18 = flatten(v17); free(v17); // %flat
  const v19 = dense(v18, W[10], W[11], 'relu'); free(v18); // %fc1
  const v20 = add(v19, v1); free(v1, v19); // %sum2
  const v21 = dense(v20, W[12], null, 'relu6'); free(v20); // %fc2
  const v22 = batchNorm(v21, K[1], K[2], W[13], W[14], 0); free(v21); // %bn_2d
  const v23 = softmax(v22, 1); free(v22); // %"prob \"out\""
  return [v23, v2];
}

/** Errors a caller can act on (bad input, bad weights file); the message names the place. */
export class SlimcModelError extends Error {
  constructor(message) {
    super(message);
    this.name = 'SlimcModelError';
  }
}

const fail = (where, message) => {
  throw new SlimcModelError(where + ': ' + message);
};
const IS_NODE = typeof process === 'object' && typeof process.versions?.node === 'string' && typeof window === 'undefined';
const shapeText = (shape) => '[' + shape.join(',') + ']';

// ---- weights file ----

/** FNV-1a over the shape (rank, then dims as uint32 LE) and the float32 bytes (LE hosts only). */
function digest(shape, bytes) {
  const header = new DataView(new ArrayBuffer(4 * (shape.length + 1)));
  header.setUint32(0, shape.length, true);
  shape.forEach((d, i) => header.setUint32(4 * (i + 1), d, true));
  let h = 0x811c9dc5;
  for (const part of [new Uint8Array(header.buffer), bytes]) {
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part[i], 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The bytes of the weights file, and the name errors give it. */
async function readWeights(source) {
  if (source instanceof Uint8Array) return [source, 'weights (Uint8Array)'];
  if (source instanceof ArrayBuffer) return [new Uint8Array(source), 'weights (ArrayBuffer)'];
  if (source !== undefined && typeof source !== 'string' && !(source instanceof URL)) {
    throw new SlimcModelError('load: weights must be a path, a URL, an ArrayBuffer or a Uint8Array');
  }
  const isUrl = source instanceof URL || (typeof source === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(source));
  const url = source === undefined ? new URL(WEIGHTS_FILE, import.meta.url) : isUrl ? new URL(source) : null;
  let name = String(source ?? url);
  try {
    if (IS_NODE && (url === null || url.protocol === 'file:')) {
      const { readFile } = await import('node:fs/promises');
      const { fileURLToPath } = await import('node:url');
      const path = url === null ? source : fileURLToPath(url);
      name = path;
      return [new Uint8Array(await readFile(path)), name];
    }
    const response = await fetch(url ?? new URL(source, globalThis.location?.href));
    if (!response.ok) throw new Error('HTTP ' + response.status + ' ' + response.statusText);
    return [new Uint8Array(await response.arrayBuffer()), name];
  } catch (e) {
    throw new SlimcModelError(name + ': cannot read the weights file (' + (e instanceof Error ? e.message : String(e)) + ')');
  }
}

/** The tensors of a weights file, in file order, each checked against its manifest checksum. */
function decodeWeights(bytes, file) {
  if (bytes.length < 16 || String.fromCharCode(...bytes.subarray(0, 8)) !== 'SLIMCWTS') {
    fail(file, 'not a slimc weights file (it should start with "SLIMCWTS")');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== 1) fail(file, 'weights file format version ' + version + ' is not supported (this module reads version 1)');
  const manifestLength = view.getUint32(12, true);
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + manifestLength)));
  } catch (e) {
    fail(file, 'the manifest is not valid JSON');
  }
  const tensors = manifest?.tensors;
  if (!Array.isArray(tensors)) fail(file, 'the manifest has no "tensors" array');
  const layout = JSON.stringify(tensors.map((t) => [t.name, t.shape]));
  if (digest([], new TextEncoder().encode(layout)) !== WEIGHTS_LAYOUT) {
    fail(file, 'these weights do not belong to this model: their names and shapes differ from the ones model.js was compiled with');
  }
  const dataStart = Math.ceil((16 + manifestLength) / 64) * 64;
  return tensors.map((t) => {
    const start = dataStart + t.offset;
    if (!(start + t.byteLength <= bytes.length)) fail(file, 'truncated: tensor @' + t.name + ' needs bytes ' + start + '..' + (start + t.byteLength) + ', the file has ' + bytes.length);
    const raw = bytes.subarray(start, start + t.byteLength);
    const found = digest(t.shape, raw);
    if (found !== t.checksum) fail(file, 'tensor @' + t.name + ' is corrupt: its data digests to #' + found + ', the manifest says #' + t.checksum);
    const aligned = (bytes.byteOffset + start) % 4 === 0 ? raw : raw.slice();
    return [t.shape, new Float32Array(aligned.buffer, aligned.byteOffset, t.byteLength / 4)];
  });
}

// ---- backend ----

let backendStarting = null;

/** Starts tfjs-backend-wasm once per process; later calls get the variant that runs. */
function startBackend(opts) {
  backendStarting ??= initBackend(opts).catch((e) => {
    backendStarting = null;
    throw e;
  });
  return backendStarting;
}

async function initBackend({ threads = 1, wasmPath } = {}) {
  let note;
  let startedBefore = false;
  if (!engine().registry.wasm) {
    const requested = Math.max(1, Math.min(8, Math.floor(threads)));
    let threaded = false;
    if (requested > 1) {
      if (IS_NODE) threaded = true;
      else if (!globalThis.crossOriginIsolated) note = 'threads need a cross-origin isolated page (COOP and COEP headers)';
      else if (Math.floor((navigator.hardwareConcurrency ?? 1) / 2) < 2) note = 'the wasm backend uses at most half the logical cores, which leaves one thread here';
      else threaded = true;
    }
    // Plain SIMD unless more than one thread is really obtainable: the threaded build on one
    // thread is slower than the plain one.
    env().set('WASM_HAS_MULTITHREAD_SUPPORT', threaded);
    if (threaded) setThreadsCount(requested);
    const wasmDir = wasmPath ?? (IS_NODE ? undefined : defaultWasmDir());
    if (wasmDir !== undefined) setWasmPaths(wasmDir);
    const restore = threaded && IS_NODE ? await nodeThreads(requested) : () => {};
    try {
      if (!(await setBackend('wasm'))) throw new Error('setBackend returned false');
    } catch (e) {
      throw new SlimcModelError('the wasm backend failed to start: ' + (e?.message ?? String(e)));
    } finally {
      restore();
    }
  } else {
    startedBefore = true;
    if (getBackend() !== 'wasm') await setBackend('wasm');
  }
  const simd = (await env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threaded = simd && (await env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  const info = { name: 'wasm', variant: threaded ? 'wasm-threaded-simd' : simd ? 'wasm-simd' : 'wasm', simd, threads: getThreadsCount() };
  if (startedBefore && threads > info.threads) note = 'the wasm backend was started before this load, and its threads were fixed then';
  return note === undefined ? info : { ...info, note };
}

/** In a browser, the .wasm binaries sit next to the backend's bundle the import map points to. */
function defaultWasmDir() {
  try {
    return new URL('./', import.meta.resolve('@tensorflow/tfjs-backend-wasm')).href;
  } catch {
    return undefined;
  }
}

/**
 * Lets the threaded build run in Node (upstream supports threads in browsers only,
 * tensorflow/tfjs#3830): its pthread workers are started from blob: URLs, which Node refuses, so
 * the same worker source starts with eval, and the blob: script it imports maps to the glue
 * file on disk. The backend caps threads at half the logical cores; the reported core count is
 * raised for the start so that the requested count is obtained. Pool workers are unref'd once
 * started, or Node would never exit. Returns the function that undoes the patches.
 */
async function nodeThreads(threads) {
  const [{ Worker }, { default: os }, { createRequire }] = await Promise.all([import('node:worker_threads'), import('node:os'), import('node:module')]);
  let main;
  try {
    main = import.meta.resolve('@tensorflow/tfjs-backend-wasm');
  } catch {
    main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  }
  const require = createRequire(main);
  const glue = require.resolve('../wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require('../wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
  const mapBlob = 'Object.defineProperty(globalThis, "importScripts", { configurable: true, set(f) { this.__slimcImport = f; }, ' +
    'get() { return (u) => this.__slimcImport(String(u).startsWith("blob:") ? ' + JSON.stringify(glue) + ' : u); } });';
  const source = mapBlob + wasmWorkerContents.replace(/\n/g, '\\n');
  const pool = [];
  let started = false;
  class PoolWorker extends Worker {
    constructor(url, options) {
      // execArgv: [] so that no flag of this process (--input-type=module, say) changes how
      // the worker script runs: it is a classic script using require.
      if (String(url).startsWith('blob:')) super(source, { eval: true, execArgv: [] });
      else super(url, options);
      pool.push(this);
    }
    ref() {
      if (!started) super.ref();
    }
  }
  const workerProperty = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  // The glue assigns global.Worker itself; this keeps ours in place.
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => PoolWorker, set: () => {} });
  const cpus = os.cpus;
  os.cpus = () => {
    const list = cpus.call(os);
    while (list.length < 2 * threads) list.push(list[0]);
    return list;
  };
  return () => {
    os.cpus = cpus;
    if (workerProperty) Object.defineProperty(globalThis, 'Worker', workerProperty);
    else delete globalThis.Worker;
    started = true;
    for (const w of pool) w.unref();
  };
}

// ---- the model ----

function toTensor(data, input, where) {
  const perSample = input.sampleShape.reduce((a, b) => a * b, 1);
  const accepted = shapeText(['N', ...input.sampleShape]) + ' (' + input.layout + ', ' + perSample + ' floats per sample)';
  if (data instanceof Tensor) {
    const ok = data.dtype === 'float32' && data.rank === input.sampleShape.length + 1 && data.shape.slice(1).every((d, i) => d === input.sampleShape[i]);
    if (!ok) fail(where, 'expects a float32 tensor of shape ' + accepted + ', got ' + data.dtype + ' ' + shapeText(data.shape));
    return fromLayout(data.clone(), input.layout);
  }
  if (!(data instanceof Float32Array)) fail(where, 'expects a Float32Array or a tf.Tensor of shape ' + accepted);
  if (data.length === 0 || data.length % perSample !== 0) {
    fail(where, 'expects shape ' + accepted + ', got ' + data.length + ' floats, which is not a positive multiple of ' + perSample);
  }
  return fromLayout(tensor(data, [data.length / perSample, ...input.sampleShape], 'float32'), input.layout);
}

class Model {
  #weights;
  #constants;
  #disposed = false;

  constructor(weights, constants, backend) {
    this.#weights = weights;
    this.#constants = constants;
    this.info = Object.freeze({ ...INFO, backend: Object.freeze(backend) });
  }

  async predict(x) {
    if (this.#disposed) throw new SlimcModelError(INFO.name + ': predict after dispose');
    // Inputs by name ({ x: data }), or, for a single-input model, the data itself.
    const named = typeof x === 'object' && x !== null && !(x instanceof Tensor) && !ArrayBuffer.isView(x) && !Array.isArray(x);
    if (!named && INFO.inputs.length > 1) {
      fail(INFO.name, 'predict takes ' + INFO.inputs.length + ' inputs by name: ' + INFO.inputs.map((i) => i.name).join(', '));
    }
    const given = named ? INFO.inputs.map((i) => (i.name in x ? x[i.name] : fail(INFO.name, 'input ' + i.name + ' is not given'))) : [x];
    const outputs = tidy(() => {
      const xs = given.map((data, i) => toTensor(data, INFO.inputs[i], INFO.name + ': input ' + INFO.inputs[i].name));
      const batch = xs[0].shape[0];
      xs.forEach((t, i) => t.shape[0] === batch || fail(INFO.name, 'input ' + INFO.inputs[i].name + ' has batch ' + t.shape[0] + ', input ' + INFO.inputs[0].name + ' has ' + batch));
      return forward(this.#weights, this.#constants, xs).map((y, i) => toLayout(y, INFO.outputs[i].layout));
    });
    try {
      const values = await Promise.all(outputs.map((t) => t.data()));
      return INFO.outputs.length === 1 ? values[0] : Object.fromEntries(INFO.outputs.map((o, i) => [o.name, values[i]]));
    } finally {
      outputs.forEach((t) => t.dispose());
    }
  }

  /** One prediction on zeros, so the first real one does not pay for kernel setup. */
  async warmup() {
    const zeros = (i) => new Float32Array(i.sampleShape.reduce((a, b) => a * b, 1));
    await this.predict(INFO.inputs.length === 1 ? zeros(INFO.inputs[0]) : Object.fromEntries(INFO.inputs.map((i) => [i.name, zeros(i)])));
  }

  /** Frees the weight tensors; the backend stays up for other models. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#weights.forEach((t) => t.dispose());
    this.#constants.forEach((t) => t instanceof Tensor && t.dispose());
  }
}

/**
 * Loads the model: starts the wasm backend (once per process) and the weights.
 * opts.weights: path (Node), URL, ArrayBuffer or Uint8Array; default: the file next to this module.
 * opts.wasmPath: where the backend's .wasm files are (a directory URL, or a map by file name).
 * opts.threads: threads to run on (default 1, the plain SIMD build); info.backend says what runs.
 */
export async function load(opts = {}) {
  const [backend, [bytes, file]] = await Promise.all([startBackend(opts), readWeights(opts.weights)]);
  registerKernels();
  const decoded = decodeWeights(bytes, file);
  const weights = Array.from({ length: WEIGHT_COUNT }, (_, i) => {
    const [shape, data] = decoded[UPLOAD_FROM[i] ?? i];
    return tensor(data, UPLOAD_SHAPES[i] ?? shape, 'float32');
  });
  return new Model(weights, makeConstants(), backend);
}
