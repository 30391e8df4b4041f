// The runtime part of every emitted model.js, as JS source: reading and checking the weights
// file, starting the wasm backend (plain SIMD by default, threads on request), and the Model
// object with predict/warmup/dispose. The module may import nothing but tfjs-core and the wasm
// backend, so this text is inlined, not imported; tests run it in Node and in Chromium.
//
// It mirrors the weights file decoder (src/ir/weights_file.ts) and the digest
// (src/ir/digest.ts): magic "SLIMCWTS", version 1, JSON manifest, data section aligned to 64
// bytes, FNV-1a checksums over shape and little-endian float32 bytes.

/** tfjs-core exports the runtime itself uses, besides those of the forward pass. */
export const RUNTIME_CORE_IMPORTS = ['Tensor', 'engine', 'env', 'getBackend', 'setBackend', 'tensor', 'tidy'] as const;

/** tfjs-backend-wasm exports the runtime uses (importing the package also registers the backend). */
export const RUNTIME_WASM_IMPORTS = ['getThreadsCount', 'setThreadsCount', 'setWasmPaths'] as const;

/** Extra tfjs-core exports, by runtime feature. */
export const RUNTIME_FEATURE_IMPORTS = {
  constants: ['tensor1d'],
  nchw: ['transpose'],
  kernels: ['getKernel', 'registerKernel'],
} as const;

export const RUNTIME_SOURCE = String.raw`
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
/** A Node built-in, loaded at run time by a specifier bundlers leave alone (they cannot resolve it for a browser). */
const nodeBuiltin = (name) => import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:' + name);

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
      const { readFile } = await nodeBuiltin('fs/promises');
      const { fileURLToPath } = await nodeBuiltin('url');
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
  const [{ Worker }, { default: os }, { createRequire }] = await Promise.all([nodeBuiltin('worker_threads'), nodeBuiltin('os'), nodeBuiltin('module')]);
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
`;

/** fromLayout/toLayout for graphs whose border is NHWC: nothing to do. */
export const NHWC_BORDER_SOURCE = `
const fromLayout = (t) => t;
const toLayout = (t) => t;`;

/** fromLayout/toLayout for graphs imported with an NCHW border: transpose 4-D values there only. */
export const NCHW_BORDER_SOURCE = `
// The source model speaks NCHW: 4-D inputs and outputs are transposed at the border only.
const fromLayout = (t, layout) => (layout === 'NCHW' ? transposeOwned(t, [0, 2, 3, 1]) : t);
const toLayout = (t, layout) => (layout === 'NCHW' ? transposeOwned(t, [0, 3, 1, 2]) : t);
const transposeOwned = (t, perm) => {
  const u = transpose(t, perm);
  t.dispose();
  return u;
};`;
