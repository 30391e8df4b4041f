// @ts-check
// The runtime of every emitted model.js: reading and checking the weights file, starting the
// wasm backend (plain SIMD by default, threads on request), and the Model object that runs the
// compiled plan (or, as a checked fallback, the engine path). The emitter inlines this file's
// text after its import lines (an emitted module imports nothing but tfjs-core and the wasm
// backend) and passes everything model-specific as one object, the argument of loadModel.
//
// The weights file decoder mirrors src/ir/weights_file.ts and the digest src/ir/digest.ts:
// magic "SLIMCWTS", version 1, JSON manifest, data section aligned to 64 bytes, FNV-1a checksums
// over shape and little-endian float32 bytes.
//
// Node-only code (reading files, threads) loads its built-ins through nodeBuiltin(), an import
// whose specifier bundlers do not see, so that browser bundles of a model need no shims.
import {
  Tensor,
  engine,
  env,
  getBackend,
  getKernel,
  registerKernel,
  setBackend,
  tensor,
  tensor1d,
  tidy,
  transpose,
} from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';

/** @typedef {import('../plan/plan_types.ts').RuntimePlan} PlanSpec */
/** @typedef {import('../plan/plan_types.ts').EncodedPlan} EncodedPlan */
/** @typedef {import('../plan/plan_types.ts').EncodedStep} EncodedStep */
/** @typedef {Extract<EncodedStep, readonly ['conv2d' | 'depthwise', ...unknown[]]>} EncodedConv */
/** @typedef {import('./model_spec.ts').ModelSpec} ModelSpec */
/** @typedef {import('./model_api.ts').InputValue} RuntimeInput */
/** @typedef {import('./model_api.ts').BorderValue['layout']} BorderLayout */
/** @typedef {import('./model_api.ts').LoadOptions} LoadOptions */
/** @typedef {import('./model_api.ts').BackendInfo} BackendInfo */
/** @typedef {import('./model_api.ts').RuntimeInfo} RuntimeInfo */
/** @typedef {Float32Array | Tensor} InputData */
/** @typedef {(...args: number[]) => number} WasmExport */
/**
 * The parts of tfjs-backend-wasm's BackendWasm and of its emscripten module the plan uses.
 * @typedef {{
 *   asm: Record<string, WasmExport | undefined>,
 *   HEAPF32: Float32Array,
 *   HEAP32: Int32Array,
 *   HEAPU8: Uint8Array,
 *   slimcUnusable?: string,
 *   slimcChannelKernels?: ChannelKernels | null,
 *   slimcConvKernels?: { simd?: ConvKernels | null, fma?: ConvKernels | null },
 *   slimcMemory?: WebAssembly.Memory,
 * }} WasmModule
 * @typedef {(src: number, srcStride: number, dst: number, dstStride: number, pixels: number, runs: number, runsEnd: number) => void} CopyRuns
 * @typedef {(src: number, srcStride: number, dst: number, dstStride: number, pixels: number, records: number, recordsEnd: number,
 *   scale: number, shift: number, lo: number, hi: number) => void} GatherVectors
 * @typedef {{ copyRuns: CopyRuns, gatherVectors: GatherVectors }} ChannelKernels
 * @typedef {(x: number, images: number, image: number, row: number, rowStep: number, pix: number, w: number, wrow: number,
 *   bias: number, y: number, ypix: number, lanes: number, kh: number, klen: number, ho: number, wo: number, lo: number, hi: number) => void} ConvBlock
 * @typedef {(src: number, dst: number, images: number, h: number, rowBytes: number, top: number, left: number,
 *   paddedRows: number, paddedRow: number) => void} PadImages
 * @typedef {(src: number, pix: number, row: number, image: number, images: number, th: number, tw: number,
 *   vectors: number, lanes: number, dst: number, estride: number) => void} WinogradIn
 * @typedef {(src: number, estride: number, tile: number, bias: number, y: number, ypix: number, yrow: number,
 *   yimage: number, images: number, th: number, tw: number, ho: number, wo: number, vectors: number, lanes: number,
 *   lo: number, hi: number) => void} WinogradOut
 * @typedef {{ blocks: Record<number, ConvBlock>, pad: PadImages, winogradIn: WinogradIn, winogradOut: WinogradOut, fma: boolean }} ConvKernels
 * @typedef {{ ids: number[], memory?: number, u?: number }} WinogradFilter the 16 transformed filters of a
 *   conv: backend tensors XNNPACK has packed, or (memory, u) a block slimc's kernels read (winogradFiltersOf)
 * @typedef {{ wasm: WasmModule, dataIdNextNumber: number, dataIdMap: { get(dataId: object): { id: number, memoryOffset: number } } }} WasmBackend
 */

/** Errors a caller can act on (bad input, bad weights file); the message names the place. */
export class SlimcModelError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'SlimcModelError';
  }
}

/**
 * @param {string} where
 * @param {string} message
 * @returns {never}
 */
const fail = (where, message) => {
  throw new SlimcModelError(where + ': ' + message);
};
const IS_NODE = typeof process === 'object' && typeof process.versions?.node === 'string' && typeof window === 'undefined';
/** @param {readonly (number | string)[]} shape */
const shapeText = (shape) => '[' + shape.join(',') + ']';
/** @param {readonly number[]} shape */
const product = (shape) => shape.reduce((a, b) => a * b, 1);
/** @param {readonly number[]} values */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
};

/**
 * A Node built-in, loaded at run time by a specifier bundlers leave alone.
 * @param {string} name
 * @returns {Promise<any>}
 */
const nodeBuiltin = (name) => import(/* @vite-ignore */ /* webpackIgnore: true */ `node:${name}`);

// ---- weights file ----

/**
 * FNV-1a over the shape (rank, then dims as uint32 LE) and the float32 bytes (LE hosts only).
 * @param {readonly number[]} shape
 * @param {Uint8Array} bytes
 */
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

/**
 * The bytes of the weights file, and the name errors give it.
 * @param {LoadOptions['weights']} source
 * @param {string} defaultFile
 * @returns {Promise<[Uint8Array, string]>}
 */
async function readWeights(source, defaultFile) {
  if (source instanceof Uint8Array) return [source, 'weights (Uint8Array)'];
  if (source instanceof ArrayBuffer) return [new Uint8Array(source), 'weights (ArrayBuffer)'];
  if (source !== undefined && typeof source !== 'string' && !(source instanceof URL)) {
    throw new SlimcModelError('load: weights must be a path, a URL, an ArrayBuffer or a Uint8Array');
  }
  const isUrl = source instanceof URL || (typeof source === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(source));
  const url = source === undefined ? new URL(defaultFile, import.meta.url) : isUrl ? new URL(source) : null;
  let name = String(source ?? url);
  try {
    if (IS_NODE && (url === null || url.protocol === 'file:')) {
      const [{ readFile }, { fileURLToPath }] = await Promise.all([nodeBuiltin('fs/promises'), nodeBuiltin('url')]);
      const path = url === null ? source : fileURLToPath(url);
      name = String(path);
      return [new Uint8Array(await readFile(path)), name];
    }
    const response = await fetch(url ?? new URL(String(source), globalThis.location?.href));
    if (!response.ok) throw new Error('HTTP ' + response.status + ' ' + response.statusText);
    return [new Uint8Array(await response.arrayBuffer()), name];
  } catch (e) {
    throw new SlimcModelError(name + ': cannot read the weights file (' + (e instanceof Error ? e.message : String(e)) + ')');
  }
}

/**
 * The tensors of a weights file, in file order, each checked against its manifest checksum.
 * @param {Uint8Array} bytes
 * @param {string} file
 * @param {string} layoutDigest
 * @returns {[number[], Float32Array][]}
 */
function decodeWeights(bytes, file, layoutDigest) {
  if (bytes.length < 16 || String.fromCharCode(...bytes.subarray(0, 8)) !== 'SLIMCWTS') {
    fail(file, 'not a slimc weights file (it should start with "SLIMCWTS")');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== 1) fail(file, 'weights file format version ' + version + ' is not supported (this module reads version 1)');
  const manifestLength = view.getUint32(12, true);
  /** @type {any} */
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + manifestLength)));
  } catch {
    fail(file, 'the manifest is not valid JSON');
  }
  /** @type {{ name: string, shape: number[], offset: number, byteLength: number, checksum: string }[]} */
  const tensors = manifest?.tensors;
  if (!Array.isArray(tensors)) fail(file, 'the manifest has no "tensors" array');
  const layout = JSON.stringify(tensors.map((t) => [t.name, t.shape]));
  if (digest([], new TextEncoder().encode(layout)) !== layoutDigest) {
    fail(file, 'these weights do not belong to this model: their names and shapes differ from the ones model.js was compiled with');
  }
  const dataStart = Math.ceil((16 + manifestLength) / 64) * 64;
  return tensors.map((t) => {
    const start = dataStart + t.offset;
    if (!(start + t.byteLength <= bytes.length))
      fail(
        file,
        'truncated: tensor @' + t.name + ' needs bytes ' + start + '..' + (start + t.byteLength) + ', the file has ' + bytes.length,
      );
    const raw = bytes.subarray(start, start + t.byteLength);
    const found = digest(t.shape, raw);
    if (found !== t.checksum)
      fail(file, 'tensor @' + t.name + ' is corrupt: its data digests to #' + found + ', the manifest says #' + t.checksum);
    const aligned = (bytes.byteOffset + start) % 4 === 0 ? raw : raw.slice();
    return /** @type {[number[], Float32Array]} */ ([t.shape, new Float32Array(aligned.buffer, aligned.byteOffset, t.byteLength / 4)]);
  });
}

// ---- backend ----

/** @type {Promise<BackendInfo> | null} */
let backendStarting = null;

/**
 * Starts tfjs-backend-wasm once per process; later calls get the variant that runs.
 * @param {LoadOptions} opts
 */
function startBackend(opts) {
  backendStarting ??= initBackend(opts).catch((e) => {
    backendStarting = null;
    throw e;
  });
  return backendStarting;
}

/**
 * @param {LoadOptions} opts
 * @returns {Promise<BackendInfo>}
 */
async function initBackend({ threads = 1, wasmPath } = {}) {
  /** @type {string | undefined} */
  let note;
  let startedBefore = false;
  if (!engine().registry.wasm) {
    const requested = Math.max(1, Math.min(8, Math.floor(threads)));
    let threaded = false;
    if (requested > 1) {
      if (IS_NODE) threaded = true;
      else if (!globalThis.crossOriginIsolated) note = 'threads need a cross-origin isolated page (COOP and COEP headers)';
      else if (Math.floor((navigator.hardwareConcurrency ?? 1) / 2) < 2)
        note = 'the wasm backend uses at most half the logical cores, which leaves one thread here';
      else threaded = true;
    }
    // Plain SIMD unless more than one thread is really obtainable: the threaded build on one
    // thread is slower than the plain one.
    env().set('WASM_HAS_MULTITHREAD_SUPPORT', threaded);
    if (threaded) setThreadsCount(requested);
    const wasmDir = wasmPath ?? (IS_NODE ? undefined : defaultWasmDir());
    if (wasmDir !== undefined) setWasmPaths(/** @type {any} */ (wasmDir));
    const restore = threaded && IS_NODE ? await nodeThreads(requested) : () => {};
    // The threaded build imports its memory instead of exporting it: note the one it makes, for
    // copy_runs.wasm to import too.
    const Memory = WebAssembly.Memory;
    /** @type {WebAssembly.Memory | undefined} */
    let memory;
    if (threaded) {
      WebAssembly.Memory = new Proxy(Memory, {
        construct: (target, args) => (memory ??= /** @type {WebAssembly.Memory} */ (Reflect.construct(target, args))),
      });
    }
    try {
      if (!(await setBackend('wasm'))) throw new Error('setBackend returned false');
    } catch (e) {
      throw new SlimcModelError('the wasm backend failed to start: ' + (e instanceof Error ? e.message : String(e)));
    } finally {
      WebAssembly.Memory = Memory;
      restore();
    }
    const wasm = wasmBackend().wasm;
    if (memory !== undefined && wasm.HEAPU8.buffer === memory.buffer) wasm.slimcMemory = memory;
  } else {
    startedBefore = true;
    if (getBackend() !== 'wasm') await setBackend('wasm');
  }
  const simd = (await env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threaded = simd && (await env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  /** @type {BackendInfo} */
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
 * @param {number} threads
 * @returns {Promise<() => void>}
 */
async function nodeThreads(threads) {
  const [{ Worker }, { default: os }, { createRequire }] = await Promise.all([
    nodeBuiltin('worker_threads'),
    nodeBuiltin('os'),
    nodeBuiltin('module'),
  ]);
  let main;
  try {
    main = import.meta.resolve('@tensorflow/tfjs-backend-wasm');
  } catch {
    main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  }
  const requireFromBackend = createRequire(main);
  const glue = requireFromBackend.resolve('../wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = requireFromBackend('../wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
  const mapBlob =
    'Object.defineProperty(globalThis, "importScripts", { configurable: true, set(f) { this.__slimcImport = f; }, ' +
    'get() { return (u) => this.__slimcImport(String(u).startsWith("blob:") ? ' +
    JSON.stringify(glue) +
    ' : u); } });';
  const source = mapBlob + wasmWorkerContents.replace(/\n/g, '\\n');
  /** @type {any[]} */
  const pool = [];
  let started = false;
  class PoolWorker extends Worker {
    /**
     * @param {string | URL} url
     * @param {object} [options]
     */
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
    else delete (/** @type {any} */ (globalThis).Worker);
    started = true;
    for (const w of pool) w.unref();
  };
}

/** The wasm backend's internals the plan uses. */
function wasmBackend() {
  return /** @type {WasmBackend} */ (/** @type {unknown} */ (engine().findBackend('wasm')));
}

// ---- channel kernels of the engine path ----

/**
 * One channel run, every pixel: copyWithin on one heap view for long runs, element loops for short ones.
 * @param {Float32Array} heap
 * @param {number} from
 * @param {number} fromStride
 * @param {number} to
 * @param {number} toStride
 * @param {number} length
 * @param {number} pixels
 */
function copyRun(heap, from, fromStride, to, toStride, length, pixels) {
  if (length >= 16) {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) heap.copyWithin(to, from, from + length);
  } else if (length === 1) {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) heap[to] = heap[from];
  } else {
    for (let p = 0; p < pixels; p++, from += fromStride, to += toStride) for (let k = 0; k < length; k++) heap[to + k] = heap[from + k];
  }
}

/**
 * The engine path's own kernels for gathers and concats (the backend's GatherV2 and Concat
 * allocate per element or per pixel). Heap views are taken after makeOutput: allocating may
 * grow, and so replace, the wasm memory.
 * @type {Record<string, (args: any) => any>}
 */
const CHANNEL_KERNELS = {
  // x[..., indices[j]] for each j: each run of consecutive indices is copied at once.
  SlimcGatherChannels: ({ inputs: { x }, attrs: { indices }, backend }) => {
    const channels = x.shape[x.shape.length - 1];
    const kept = indices.length;
    const out = backend.makeOutput([...x.shape.slice(0, -1), kept], 'float32');
    if (kept === 0 || channels === 0) return out;
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const heap = new Float32Array(dst.buffer);
    const pixels = src.length / channels;
    for (let j = 0; j < kept;) {
      let length = 1;
      while (j + length < kept && indices[j + length] === indices[j] + length) length++;
      copyRun(heap, (src.byteOffset >> 2) + indices[j], channels, (dst.byteOffset >> 2) + j, kept, length, pixels);
      j += length;
    }
    return out;
  },
  // The inputs side by side along the last axis, each one run per pixel.
  SlimcConcatChannels: ({ inputs, backend }) => {
    /** @type {number[]} */
    const widths = inputs.map((/** @type {Tensor} */ x) => x.shape[x.shape.length - 1]);
    const total = widths.reduce((a, b) => a + b, 0);
    const out = backend.makeOutput([...inputs[0].shape.slice(0, -1), total], 'float32');
    if (total === 0) return out;
    const dst = backend.typedArrayFromHeap(out);
    const heap = new Float32Array(dst.buffer);
    const pixels = dst.length / total;
    let column = 0;
    inputs.forEach((/** @type {Tensor} */ x, /** @type {number} */ i) => {
      if (widths[i] > 0)
        copyRun(heap, backend.typedArrayFromHeap(x).byteOffset >> 2, widths[i], (dst.byteOffset >> 2) + column, total, widths[i], pixels);
      column += widths[i];
    });
    return out;
  },
};

function registerChannelKernels() {
  for (const [kernelName, kernelFunc] of Object.entries(CHANNEL_KERNELS)) {
    if (!getKernel(kernelName, 'wasm')) registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

// ---- channel copies in wasm ----

// copy_runs.wasm (its plain-memory build): made from src/codegen/runtime/copy_runs.wat by
// scripts/build_runtime_kernels.ts (a test checks these match it).
// copy_runs.wasm: begin
const COPY_RUNS_WASM =
  'AGFzbQEAAAABGQJgB39/f39/f38AYAt/f39/f39/f399fQACDwEDZW52Bm1lbW9yeQIAAQMDAgABBx4CCWNvcHlfcnVucwAADmdhdGhlcl92ZWN0b3JzAAEK2wUCwAIBBX8CQANAIAUgBk8NASAAIAUoAgBqIQcgAiAFKAIEaiEIIAUoAgghCSAEIQogCUEERgRAAkADQCAKRQ0BIAggBygCADYCACAHIAFqIQcgCCADaiEIIApBAWshCgwACwsFIAlBCEYEQAJAA0AgCkUNASAIIAcpAgA3AgAgByABaiEHIAggA2ohCCAKQQFrIQoMAAsLBSAJQYABTwRAAkADQCAKRQ0BIAggByAJ/AoAACAHIAFqIQcgCCADaiEIIApBAWshCgwACwsFAkADQCAKRQ0BQQAhCwJAA0AgC0EIaiAJSw0BIAggC2ogByALaikCADcCACALQQhqIQsMAAsLIAsgCUkEQCAIIAtqIAcgC2ooAgA2AgALIAcgAWohByAIIANqIQggCkEBayEKDAALCwsLCyAFQQxqIQUMAAsLC5YDAwh/BXsBfyAJ/RMhFSAK/RMhFiAHQQBHIRgCQANAIAUgBk8NASACIAUoAgBqIQwgBSgCBCENIAUoAgwhDyAFKAIQIRAgBSgCFCERIAUoAhghEiAYBEAgByAFKAIAav0ABAAhEyAIIAUoAgBq/QAEACEUCyAAIQsgBCEOIAUoAggEQAJAA0AgDkUNASALIA9q/QACACEXIBgEQCAXIBP95gEgFP3kASAV/esBIBb96gEhFwsgDCAX/QsCACALIAFqIQsgDCADaiEMIA5BAWshDgwACwtBACEOCwJAA0AgDkUNASALIA9q/VwCACEXIAsgEGogF/1WAgABIRcgCyARaiAX/VYCAAIhFyALIBJqIBf9VgIAAyEXIBgEQCAXIBP95gEgFP3kASAV/esBIBb96gEhFwsgDUEERgRAIAwgF/0LAgAFIA1BAk8EQCAMIBf9WwIAACANQQNGBEAgDCAX/VoCCAILBSAMIBf9WgIAAAsLIAsgAWohCyAMIANqIQwgDkEBayEODAALCyAFQSBqIQUMAAsLCw==';
// copy_runs.wasm: end

/**
 * The kernels of copy_runs.wat over the backend's memory, made once per backend; null where they
 * cannot be made (the runtime then copies in JS, slower, same result).
 * @param {WasmModule} wasm
 * @returns {ChannelKernels | null}
 */
function channelKernels(wasm) {
  if (wasm.slimcChannelKernels !== undefined) return wasm.slimcChannelKernels;
  const exports = kernelModule(wasm, COPY_RUNS_WASM);
  wasm.slimcChannelKernels =
    exports === null
      ? null
      : { copyRuns: /** @type {CopyRuns} */ (exports.copy_runs), gatherVectors: /** @type {GatherVectors} */ (exports.gather_vectors) };
  return wasm.slimcChannelKernels;
}

/**
 * One of slimc's kernel modules instantiated over the backend's memory (for a threaded backend,
 * whose memory is shared, the shared-memory build); null where that cannot be done. Training's
 * kernels (src/train/kernels/wasm_kernels.ts) are made here too.
 * @param {Pick<WasmModule, 'asm' | 'slimcMemory'>} wasm
 * @param {string} plain the plain build, base64
 * @param {boolean} [fma] the build with fused multiply-adds (fmaBuild): null where the host has no relaxed SIMD
 * @returns {WebAssembly.Exports | null}
 */
export function kernelModule(wasm, plain, fma = false) {
  const memory = /** @type {unknown} */ (wasm.asm.memory) ?? wasm.slimcMemory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  try {
    const isShared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const decoded = Uint8Array.from(atob(plain), (c) => c.charCodeAt(0));
    const bytes = fma ? fmaBuild(decoded) : decoded;
    if (bytes === null) return null;
    const build = isShared ? sharedMemoryBuild(bytes) : bytes;
    if (build === null) return null;
    return new WebAssembly.Instance(new WebAssembly.Module(build), { env: { memory } }).exports;
  } catch {
    return null;
  }
}

/** The import section of a plain build: one import, env.memory, limits { min 1 }. */
const PLAIN_MEMORY_IMPORT = [1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 0, 1];
/** The same import declared shared, at most 65536 pages (any threaded backend's memory fits). */
const SHARED_MEMORY_IMPORT = [...PLAIN_MEMORY_IMPORT.slice(0, -2), 3, 1, 0x80, 0x80, 4];

/**
 * Where section `id` of a wasm module's bytes lies: [its first byte, its content's first byte,
 * the content's size]; null if it has none. Sections follow the 8-byte header as id, LEB128 size,
 * content.
 * @param {Uint8Array} bytes
 * @param {number} id
 * @returns {[number, number, number] | null}
 */
function sectionOf(bytes, id) {
  let at = 8;
  while (at < bytes.length) {
    let [size, shift, content] = [0, 0, at + 1];
    for (;;) {
      const byte = bytes[content++];
      size |= (byte & 0x7f) << shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    if (bytes[at] === id) return [at, content, size];
    at = content + size;
  }
  return null;
}

/**
 * A kernel module's shared-memory build, made from its plain build: the two differ only in the
 * memory import's limits, so the runtime ships one and rewrites the import section (id 2). null
 * if the bytes do not hold exactly the import this expects.
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @returns {Uint8Array<ArrayBuffer> | null}
 */
export function sharedMemoryBuild(bytes) {
  const imports = sectionOf(bytes, 2);
  if (imports === null) return null;
  const [at, content, size] = imports;
  if (size !== PLAIN_MEMORY_IMPORT.length || PLAIN_MEMORY_IMPORT.some((b, i) => bytes[content + i] !== b)) return null;
  return Uint8Array.from([
    ...bytes.subarray(0, at),
    2,
    SHARED_MEMORY_IMPORT.length,
    ...SHARED_MEMORY_IMPORT,
    ...bytes.subarray(content + size),
  ]);
}

/** A multiply-add as narrow_conv.wasm's plain build has it: f32x4.mul, local.get X (-1), f32x4.add. */
const MUL_GET_ADD = [0xfd, 0xe6, 0x01, 0x20, -1, 0xfd, 0xe4, 0x01];

/**
 * A kernel module's build with fused multiply-adds, made from its plain build: each
 * `f32x4.add (f32x4.mul a b) (local.get X)` (bytes a, b, mul, get X, add) becomes `local.get X,
 * f32x4.relaxed_madd` (a * b + X in one instruction, rounded once) and three nops: the same
 * length, so no size or offset in the module changes. Only the code section (id 10) is rewritten.
 * null if it has no multiply-add. Hosts without relaxed SIMD do not validate the result.
 * @param {Uint8Array<ArrayBuffer>} bytes
 * @returns {Uint8Array<ArrayBuffer> | null}
 */
export function fmaBuild(bytes) {
  const code = sectionOf(bytes, 10);
  if (code === null) return null;
  const [, content, size] = code;
  const out = Uint8Array.from(bytes);
  let rewritten = 0;
  for (let i = content; i + MUL_GET_ADD.length <= content + size; i++) {
    if (bytes[i + 4] >= 0x80 || MUL_GET_ADD.some((b, k) => b >= 0 && bytes[i + k] !== b)) continue;
    out.set([0x20, bytes[i + 4], 0xfd, 0x85, 0x02, 0x01, 0x01, 0x01], i);
    rewritten++;
    i += MUL_GET_ADD.length - 1;
  }
  return rewritten > 0 ? out : null;
}

// ---- convolutions in wasm ----

// narrow_conv.wasm (its plain-memory build): made from narrow_conv.wat (written by
// scripts/narrow_conv_wat.ts) by scripts/build_runtime_kernels.ts (a test checks these match it).
// narrow_conv.wasm: begin
const NARROW_CONV_WASM =
  'AGFzbQEAAAABSgVgA397fwBgEn9/f39/f39/f39/f39/f399fQBgCX9/f39/f39/fwBgC39/f39/f39/f39/AGARf39/f39/f39/f39/f39/fX0AAg8BA2VudgZtZW1vcnkCAAEDCAcAAQEBAgMEBzcGBmNvbnZfMQABBmNvbnZfMgACBmNvbnZfNAADA3BhZAAEB3dpbm9faW4ABQh3aW5vX291dAAGCpghBy0AIAAgAf1aAgAAIAJBAk8EQCAAIAH9WgIEAQsgAkEDRgRAIAAgAf1aAggCCwurBAMFfwh7B38gEP0TIRcgEf0TIRggCSEWAkAgAUUgDkUgD0EESXJyDQADQCAAIBIgAmxqIRVBACETA0BBACEUA0AgFEEEaiAPSwRAIA9BBGshFAsgFSAUIAVsaiEfIAYhICAWIBQgCmxqISEgCP0ABAAhHiAeIRkgHiEaIB4hGyAeIRwgDCElA0AgHyEiIA0hJANAICD9AAQAIR0gIiEjICP9CQIAIR4gHiAd/eYBIBn95AEhGSAjIAVqISMgI/0JAgAhHiAeIB395gEgGv3kASEaICMgBWohIyAj/QkCACEeIB4gHf3mASAb/eQBIRsgIyAFaiEjICP9CQIAIR4gHiAd/eYBIBz95AEhHCAiQQRqISIgICAHaiEgICRBAWsiJA0ACyAfIANqIR8gJUEBayIlDQALIBggFyAZ/ekB/egBIR4gC0EERgRAICEgHv0LAgAFICFBAGogHiALEAALICEgCmohISAYIBcgGv3pAf3oASEeIAtBBEYEQCAhIB79CwIABSAhQQBqIB4gCxAACyAhIApqISEgGCAXIBv96QH96AEhHiALQQRGBEAgISAe/QsCAAUgIUEAaiAeIAsQAAsgISAKaiEhIBggFyAc/ekB/egBIR4gC0EERgRAICEgHv0LAgAFICFBAGogHiALEAALIBRBBGoiFCAPSQ0ACyAWIA8gCmxqIRYgFSAEaiEVIBNBAWoiEyAOSQ0ACyASQQFqIhIgAUkNAAsLC9sFAwV/DXsHfyAQ/RMhFyAR/RMhGCAJIRYCQCABRSAORSAPQQRJcnINAANAIAAgEiACbGohFUEAIRMDQEEAIRQDQCAUQQRqIA9LBEAgD0EEayEUCyAVIBQgBWxqISQgBiElIBYgFCAKbGohJiAI/QAEACEjICMhGSAjIRsgIyEdICMhHyAI/QAEECEjICMhGiAjIRwgIyEeICMhICAMISoDQCAkIScgDSEpA0AgJf0ABAAhISAl/QAEECEiICchKCAo/QkCACEjICMgIf3mASAZ/eQBIRkgIyAi/eYBIBr95AEhGiAoIAVqISggKP0JAgAhIyAjICH95gEgG/3kASEbICMgIv3mASAc/eQBIRwgKCAFaiEoICj9CQIAISMgIyAh/eYBIB395AEhHSAjICL95gEgHv3kASEeICggBWohKCAo/QkCACEjICMgIf3mASAf/eQBIR8gIyAi/eYBICD95AEhICAnQQRqIScgJSAHaiElIClBAWsiKQ0ACyAkIANqISQgKkEBayIqDQALIBggFyAZ/ekB/egBISMgJiAj/QsCACAYIBcgGv3pAf3oASEjIAtBBEYEQCAmICP9CwIQBSAmQRBqICMgCxAACyAmIApqISYgGCAXIBv96QH96AEhIyAmICP9CwIAIBggFyAc/ekB/egBISMgC0EERgRAICYgI/0LAhAFICZBEGogIyALEAALICYgCmohJiAYIBcgHf3pAf3oASEjICYgI/0LAgAgGCAXIB796QH96AEhIyALQQRGBEAgJiAj/QsCEAUgJkEQaiAjIAsQAAsgJiAKaiEmIBggFyAf/ekB/egBISMgJiAj/QsCACAYIBcgIP3pAf3oASEjIAtBBEYEQCAmICP9CwIQBSAmQRBqICMgCxAACyAUQQRqIhQgD0kNAAsgFiAPIApsaiEWIBUgBGohFSATQQFqIhMgDkkNAAsgEkEBaiISIAFJDQALCwunBQMFfw97B38gEP0TIRcgEf0TIRggCSEWAkAgAUUgDkUgD0ECSXJyDQADQCAAIBIgAmxqIRVBACETA0BBACEUA0AgFEECaiAPSwRAIA9BAmshFAsgFSAUIAVsaiEmIAYhJyAWIBQgCmxqISggCP0ABAAhJSAlIRkgJSEdIAj9AAQQISUgJSEaICUhHiAI/QAEICElICUhGyAlIR8gCP0ABDAhJSAlIRwgJSEgIAwhLANAICYhKSANISsDQCAn/QAEACEhICf9AAQQISIgJ/0ABCAhIyAn/QAEMCEkICkhKiAq/QkCACElICUgIf3mASAZ/eQBIRkgJSAi/eYBIBr95AEhGiAlICP95gEgG/3kASEbICUgJP3mASAc/eQBIRwgKiAFaiEqICr9CQIAISUgJSAh/eYBIB395AEhHSAlICL95gEgHv3kASEeICUgI/3mASAf/eQBIR8gJSAk/eYBICD95AEhICApQQRqISkgJyAHaiEnICtBAWsiKw0ACyAmIANqISYgLEEBayIsDQALIBggFyAZ/ekB/egBISUgKCAl/QsCACAYIBcgGv3pAf3oASElICggJf0LAhAgGCAXIBv96QH96AEhJSAoICX9CwIgIBggFyAc/ekB/egBISUgC0EERgRAICggJf0LAjAFIChBMGogJSALEAALICggCmohKCAYIBcgHf3pAf3oASElICggJf0LAgAgGCAXIB796QH96AEhJSAoICX9CwIQIBggFyAf/ekB/egBISUgKCAl/QsCICAYIBcgIP3pAf3oASElIAtBBEYEQCAoICX9CwIwBSAoQTBqICUgCxAACyAUQQJqIhQgD0kNAAsgFiAPIApsaiEWIBUgBGohFSATQQFqIhMgDkkNAAsgEkEBaiISIAFJDQALCwuYAQEDfwJAA0AgCSACTw0BIAEgByAIbGohCyABQQAgBSAIbCAGavwLACABIAUgCGwgBmpqIQFBACEKAkADQCAKIANPDQEgASAAIAT8CgAAIAEgBGpBACAIIARr/AsAIAAgBGohACABIAhqIQEgCkEBaiEKDAALCyABIAZrIQEgAUEAIAsgAWv8CwAgCyEBIAlBAWohCQwACwsL/wgCInsof0EAIAJsQQAgAWxqIS1BACACbEEBIAFsaiEvQQAgAmxBAiABbGohMUEAIAJsQQMgAWxqITNBASACbEEAIAFsaiE1QQEgAmxBASABbGohN0EBIAJsQQIgAWxqITlBASACbEEDIAFsaiE7QQIgAmxBACABbGohPUECIAJsQQEgAWxqIT9BAiACbEECIAFsaiFBQQIgAmxBAyABbGohQ0EDIAJsQQAgAWxqIUVBAyACbEEBIAFsaiFHQQMgAmxBAiABbGohSUEDIAJsQQMgAWxqIUtBACAKbCEuQQEgCmwhMEECIApsITJBAyAKbCE0QQQgCmwhNkEFIApsIThBBiAKbCE6QQcgCmwhPEEIIApsIT5BCSAKbCFAQQogCmwhQkELIApsIURBDCAKbCFGQQ0gCmwhSEEOIApsIUpBDyAKbCFMIAj9Ef0MAAAAAAEAAAACAAAAAwAAAP07IQwgACFRIAkhVANAIFEhUkEAIU4DQEEAIU8DQCBSIE9BAXQgAWxqIVNBACFQA0AgDP0M/////////////////////yBQIAdBAWtGGyELIAsgUyAtav0AAgD9TiENIAsgUyAvav0AAgD9TiEPIAsgUyAxav0AAgD9TiERIAsgUyAzav0AAgD9TiETIAsgUyA1av0AAgD9TiEVIAsgUyA3av0AAgD9TiEXIAsgUyA5av0AAgD9TiEZIAsgUyA7av0AAgD9TiEbIAsgUyA9av0AAgD9TiEdIAsgUyA/av0AAgD9TiEfIAsgUyBBav0AAgD9TiEhIAsgUyBDav0AAgD9TiEjIAsgUyBFav0AAgD9TiElIAsgUyBHav0AAgD9TiEnIAsgUyBJav0AAgD9TiEpIAsgUyBLav0AAgD9TiErIA0gHf3lASEOIBUgHf3kASEWIB0gFf3lASEeIBUgJf3lASEmIA8gH/3lASEQIBcgH/3kASEYIB8gF/3lASEgIBcgJ/3lASEoIBEgIf3lASESIBkgIf3kASEaICEgGf3lASEiIBkgKf3lASEqIBMgI/3lASEUIBsgI/3kASEcICMgG/3lASEkIBsgK/3lASEsIFQgLmogDiAS/eUB/QsCACBUIDBqIBAgEv3kAf0LAgAgVCAyaiASIBD95QH9CwIAIFQgNGogECAU/eUB/QsCACBUIDZqIBYgGv3lAf0LAgAgVCA4aiAYIBr95AH9CwIAIFQgOmogGiAY/eUB/QsCACBUIDxqIBggHP3lAf0LAgAgVCA+aiAeICL95QH9CwIAIFQgQGogICAi/eQB/QsCACBUIEJqICIgIP3lAf0LAgAgVCBEaiAgICT95QH9CwIAIFQgRmogJiAq/eUB/QsCACBUIEhqICggKv3kAf0LAgAgVCBKaiAqICj95QH9CwIAIFQgTGogKCAs/eUB/QsCACBTQRBqIVMgVEEQaiFUIFBBAWoiUCAHSQ0ACyBPQQFqIk8gBkkNAAsgUiACQQF0aiFSIE5BAWoiTiAFSQ0ACyBRIANqIVEgTUEBaiJNIARJDQALC5kHAhx7Hn8gD/0TISsgEP0TISxBACABbCEtQQEgAWwhLkECIAFsIS9BAyABbCEwQQQgAWwhMUEFIAFsITJBBiABbCEzQQcgAWwhNEEIIAFsITVBCSABbCE2QQogAWwhN0ELIAFsIThBDCABbCE5QQ0gAWwhOkEOIAFsITtBDyABbCE8QQAgBmxBACAFbGohPUEAIAZsQQEgBWxqIT5BASAGbEEAIAVsaiE/QQEgBmxBASAFbGohQCAAIUYgBCFIA0AgSCFJQQAhQgNAQQAhQwNAQQAhRCBGIUUgSSBDQQF0IAVsaiFHA0AgDkEERiBEQQFqIA1JciFKIAMgREEEdGr9AAIAISogRSAtav0AAgAhESBFIC5q/QACACESIEUgL2r9AAIAIRMgRSAwav0AAgAhFCBFIDFq/QACACEVIEUgMmr9AAIAIRYgRSAzav0AAgAhFyBFIDRq/QACACEYIEUgNWr9AAIAIRkgRSA2av0AAgAhGiBFIDdq/QACACEbIEUgOGr9AAIAIRwgRSA5av0AAgAhHSBFIDpq/QACACEeIEUgO2r9AAIAIR8gRSA8av0AAgAhICARIBX95AEgGf3kASEhIBUgGf3lASAd/eUBISUgEiAW/eQBIBr95AEhIiAWIBr95QEgHv3lASEmIBMgF/3kASAb/eQBISMgFyAb/eUBIB/95QEhJyAUIBj95AEgHP3kASEkIBggHP3lASAg/eUBISggISAi/eQBICP95AEgKv3kASAr/esBICz96gEhKSBKBEAgRyA9aiAp/QsCAAUgRyA9aiApIA4QAAsgQ0EBdEEBaiAMSQRAICIgI/3lASAk/eUBICr95AEgK/3rASAs/eoBISkgSgRAIEcgPmogKf0LAgAFIEcgPmogKSAOEAALCyBCQQF0QQFqIAtJBEAgJSAm/eQBICf95AEgKv3kASAr/esBICz96gEhKSBKBEAgRyA/aiAp/QsCAAUgRyA/aiApIA4QAAsLIEJBAXRBAWogC0kgQ0EBdEEBaiAMSXEEQCAmICf95QEgKP3lASAq/eQBICv96wEgLP3qASEpIEoEQCBHIEBqICn9CwIABSBHIEBqICkgDhAACwsgRUEQaiFFIEdBEGohRyBEQQFqIkQgDUkNAAsgRiACaiFGIENBAWoiQyAKSQ0ACyBJIAZBAXRqIUkgQkEBaiJCIAlJDQALIEggB2ohSCBBQQFqIkEgCEkNAAsL';
// narrow_conv.wasm: end

/** Output channels one block of narrow_conv.wat computes at most (4 vectors of 4). */
const CONV_BLOCK_CHANNELS = 16;

/**
 * How a conv's output channels split into kernel calls: [first channel, channels] per block.
 * Blocks of 16 (conv_4) while 13 or more are left, then 8 (conv_2) and up to 4 (conv_1): there is
 * no 3-vector kernel, which took 1.2-1.8x as long on layers of 9-12 channels as 8 + the rest.
 * @param {number} cout
 * @returns {[number, number][]}
 */
export function convBlocks(cout) {
  /** @type {[number, number][]} */
  const blocks = [];
  let first = 0;
  for (; cout - first >= 13; first += Math.min(16, cout - first)) blocks.push([first, Math.min(16, cout - first)]);
  if (cout - first > 4) {
    blocks.push([first, Math.min(8, cout - first)]);
    first += Math.min(8, cout - first);
  }
  if (cout - first > 0) blocks.push([first, cout - first]);
  return blocks;
}

/** Output width below which a conv stays with XNNPACK: the kernels' widest tile (narrow_conv_wat.ts MIN_OUTPUT_WIDTH). */
const CONV_MIN_WIDTH = 4;

/**
 * Output channels above which a conv stays with XNNPACK: the kernels read each tap's weights for
 * a block out of rows of 4 * cout bytes; in a microbenchmark at 512 channels (2 KB rows) that
 * made a 3x3 conv 1.8x slower than XNNPACK, while up to 128 it kept its speed.
 */
const CONV_MAX_CHANNELS = 128;

/**
 * narrow_conv.wasm's kernels over the backend's memory, made once per backend and build: 'simd'
 * (plain wasm SIMD) or 'fma' (its multiply-adds fused, where the host has relaxed SIMD); null
 * where they cannot be made (the plan then runs every conv on XNNPACK, or on the 'simd' build).
 * @param {WasmModule} wasm
 * @param {'simd' | 'fma'} build
 * @returns {ConvKernels | null}
 */
function convKernels(wasm, build) {
  const made = (wasm.slimcConvKernels ??= {});
  const cached = made[build];
  if (cached !== undefined) return cached;
  const exports = kernelModule(wasm, NARROW_CONV_WASM, build === 'fma');
  made[build] =
    exports === null
      ? null
      : {
          // By vectors per block: conv_1, conv_2 and conv_4 (convBlocks makes no 3-vector block).
          blocks: Object.fromEntries([1, 2, 4].map((vectors) => [vectors, /** @type {ConvBlock} */ (exports['conv_' + vectors])])),
          pad: /** @type {PadImages} */ (exports.pad),
          winogradIn: /** @type {WinogradIn} */ (exports.wino_in),
          winogradOut: /** @type {WinogradOut} */ (exports.wino_out),
          fma: build === 'fma',
        };
  return made[build];
}

/**
 * Whether slimc's kernels run a conv step: a dense conv (no dilation) with no activation, relu or
 * relu6, from some input channels, of the kinds they were measured faster on (per-step profiles of
 * the same pruned networks both ways, then whole networks with predicts interleaved, which
 * decided; `npm run bench:convs`):
 * - narrow convs (one block, up to 16 output channels) on outputs at least CONV_MIN_WIDTH wide:
 *   what XNNPACK's tiles of 8 output channels waste most on (a pruned ResNet's 3x3 convs of 3-24
 *   channels, DenseNet-40's 12-channel layers, down to 8x8);
 * - 3x3 (and larger) convs of up to CONV_MAX_CHANNELS output channels on outputs at least 16
 *   pixels wide (VGG-19's layers at 32x32 and 16x16);
 * - on the plain SIMD build, not 1x1 convs from few channels to many (7 -> 64, 9 -> 128 profiled at
 *   0.65-0.75x: each block re-reads the input for a short sum, where XNNPACK's GEMM tiles do
 *   better); on the fused multiply-add build those too, up to CONV_MAX_CHANNELS on outputs at least
 *   16 pixels wide (ResNet-164 unpruned / 0.4 / 0.7 1.11 / 1.07-1.09 / 1.01-1.03x, MobileNet
 *   1.1x; the same rule on plain SIMD made ResNet-164 at 0.7 0.91x);
 * - not wide layers on small outputs (VGG-19 at 0.7 ran 0.93x with its 100-180 channel layers at
 *   8x8 and below included, 1.08x without them: with few pixels per row a tile reuses each weight
 *   too few times).
 * @param {EncodedStep} step
 * @param {number} cin
 * @param {readonly number[]} out the output's [H, W, C]
 * @param {boolean} fma whether the kernels are the fused multiply-add build
 */
function slimcConvRuns(step, cin, out, fma) {
  if (step[0] !== 'conv2d') return false;
  const [, , , , , , kh, kw, sh, sw, dh, dw, , , , , act] = step;
  const [, wo, cout] = out;
  if (!(dh === 1 && dw === 1 && act <= 2 && kh > 0 && kw > 0 && sh > 0 && sw > 0 && cin > 0 && cout > 0)) return false;
  if (cout <= CONV_BLOCK_CHANNELS) return wo >= CONV_MIN_WIDTH;
  return (fma || kh * kw > 1) && cout <= CONV_MAX_CHANNELS && wo >= 16;
}

/**
 * Whether a conv runs as Winograd F(2x2, 3x3) (scripts/winograd_wat.ts): 3x3, stride 1, not
 * dilated, activation none/relu/relu6, from enough input channels that the 16 matrix products
 * (2.25x fewer multiply-adds than the direct conv) outweigh the transforms: measured on whole
 * networks, with 16 instead of WINOGRAD_MIN_CHANNELS ResNet-164's narrow layers ran slower, and
 * from 8 its pruned ones 5-7% slower. Products of WINOGRAD_SLIMC_PRODUCTS_BELOW output channels or
 * more (32 on plain SIMD, 65 with fused multiply-adds) run on XNNPACK's GEMM (outputs of
 * WINOGRAD_MIN_SIZE pixels a side or more), narrower ones on slimc's kernels.
 * @param {EncodedStep} step
 * @param {number} cin
 * @param {readonly number[]} out the output's [H, W, C]
 * @param {boolean} [fma] whether slimc's kernels are the fused multiply-add build
 */
export function winogradConvRuns(step, cin, out, fma = false) {
  if (step[0] !== 'conv2d') return false;
  const [, , , , , , kh, kw, sh, sw, dh, dw, , , , , act] = step;
  const [ho, wo, cout] = out;
  if (!(kh === 3 && kw === 3 && sh === 1 && sw === 1 && dh === 1 && dw === 1 && act <= 2)) return false;
  if (cin < WINOGRAD_MIN_CHANNELS) return false;
  // slimc's kernels take rows of at least CONV_MIN_WIDTH pixels: here, tiles of an image.
  if (cout < winogradSlimcProductsBelow(fma)) return Math.ceil(ho / 2) * Math.ceil(wo / 2) >= CONV_MIN_WIDTH;
  return Math.min(ho, wo) >= WINOGRAD_MIN_SIZE;
}

/** Input channels below which a 3x3 conv stays direct. */
const WINOGRAD_MIN_CHANNELS = 32;
/**
 * Output height and width below which a 3x3 conv with XNNPACK products stays direct: at 2x2 an
 * image is one tile, each product a matrix-vector product of 16/9 the filter's size, and VGG-19
 * ran 1.05x / 1.07x / 1.03x faster (unpruned / 0.4 / 0.7) with its 2x2 layers direct.
 */
const WINOGRAD_MIN_SIZE = 4;
/**
 * Output channels below which a Winograd conv's 16 products run on slimc's conv kernels (each a
 * 1x1 conv over a one-row image of tiles) instead of XNNPACK's GEMM, whose tiles of 8 channels
 * and per-call setup cost narrow products more, by build of slimc's kernels. Plain SIMD: below 32
 * (DenseNet-40's 12-channel layers ran 1.10-1.14x faster for it, VGG-19 at 0.7 1.09x; up to 64
 * channels VGG-19 gained nothing more). Fused multiply-adds: up to 64 (VGG-19 unpruned / 0.4 / 0.7
 * 1.12 / 1.03 / 1.02x, ResNet-164 unpruned / 0.4 1.06 / 1.04x over below 32; up to 128 no better).
 */
const WINOGRAD_SLIMC_PRODUCTS_BELOW = { simd: 32, fma: 65 };

/** @param {boolean} fma whether slimc's kernels are the fused multiply-add build */
const winogradSlimcProductsBelow = (fma) => WINOGRAD_SLIMC_PRODUCTS_BELOW[fma ? 'fma' : 'simd'];

/**
 * The Winograd F(2x2, 3x3) filters U[e] = (G g G^T)[e], e = 0..15, of an HWIO 3x3 filter, each
 * [cin4][cout] (rows past cin zero), written at `out` (floats).
 * @param {Float32Array} heap
 * @param {number} filter the filter's first float
 * @param {number} cin
 * @param {number} cout
 * @param {number} cin4
 * @param {number} out
 */
export function winogradFilters(heap, filter, cin, cout, cin4, out) {
  const matrix = cin4 * cout;
  heap.fill(0, out, out + 16 * matrix);
  const g = new Float64Array(9);
  const t = new Float64Array(12);
  for (let ci = 0; ci < cin; ci++)
    for (let co = 0; co < cout; co++) {
      for (let k = 0; k < 9; k++) g[k] = heap[filter + k * cin * cout + ci * cout + co];
      // t = G g (4 x 3), G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1].
      for (let x = 0; x < 3; x++) {
        const [a, b, c] = [g[x], g[3 + x], g[6 + x]];
        t[x] = a;
        t[3 + x] = 0.5 * (a + b + c);
        t[6 + x] = 0.5 * (a - b + c);
        t[9 + x] = c;
      }
      // U = t G^T (4 x 4).
      for (let y = 0; y < 4; y++) {
        const [a, b, c] = [t[3 * y], t[3 * y + 1], t[3 * y + 2]];
        const row = [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c];
        for (let x = 0; x < 4; x++) heap[out + (4 * y + x) * matrix + ci * cout + co] = row[x];
      }
    }
}

/**
 * The transformed filters of a Winograd conv: made on the first plan that needs them and kept by
 * the model for its other batch sizes. For products on slimc's kernels, the 16 matrices in one
 * block (`u`, bytes; `memory` to free). For XNNPACK's GEMM, 16 backend tensors it has packed: it packs
 * a GEMM's weights into its own buffer on the first call, keyed by the weights' tensor id, and
 * never reads them again (tfjs-backend-wasm 4.22.0 batch_mat_mul_impl.cc), so each is multiplied
 * once here by a one-row matrix (a one-hot row: the product must be the matrix's first row, which
 * checks that XNNPACK did pack it) and the transformed filters' memory goes back to the heap. Null
 * when the heap cannot hold them or XNNPACK could not pack them.
 * @param {Map<number, WinogradFilter>} filters the model's, by filter index
 * @param {number} filterIndex
 * @param {number} filterPointer where the HWIO filter is (bytes)
 * @param {number} cin
 * @param {number} cout
 * @param {boolean} fma whether slimc's kernels are the fused multiply-add build
 * @returns {WinogradFilter | null}
 */
function winogradFiltersOf(filters, filterIndex, filterPointer, cin, cout, fma) {
  const made = filters.get(filterIndex);
  if (made !== undefined) return made;
  const backend = wasmBackend();
  const asm = /** @type {Record<string, WasmExport>} */ (backend.wasm.asm);
  const cin4 = 4 * Math.ceil(cin / 4);
  const matrix = cin4 * cout;
  const slimcProducts = cout < winogradSlimcProductsBelow(fma);
  // The 16 matrices, then: for slimc's kernels, which read them where they are, 3 floats of slack
  // (the last vector of a block reads past the last row and never stores those lanes); for
  // XNNPACK, a row of input, a row of output and the two shapes of the packing products.
  const floats = 16 * matrix + (slimcProducts ? 4 : cin4 + cout + 6);
  const memory = asm.malloc(4 * floats + 16) >>> 0;
  if (memory === 0) return null;
  const u = Math.ceil(memory / 16) * 4;
  const heap = backend.wasm.HEAPF32;
  winogradFilters(heap, filterPointer >>> 2, cin, cout, cin4, u);
  if (slimcProducts) {
    const kept = { ids: [], memory, u: 4 * u };
    filters.set(filterIndex, kept);
    return kept;
  }
  const [row, out, shapes] = [u + 16 * matrix, u + 16 * matrix + cin4, u + 16 * matrix + cin4 + cout];
  heap.fill(0, row, row + cin4);
  heap[row] = 1;
  backend.wasm.HEAP32.set([1, 1, cin4, 1, cin4, cout], shapes);
  /** @param {number} size @param {number} at floats */
  const register = (size, at) => {
    const id = backend.dataIdNextNumber++;
    asm.register_tensor(id, size, 4 * at);
    return id;
  };
  const [a, y] = [register(cin4, row), register(cout, out)];
  const ids = Array.from({ length: 16 }, (_, e) => register(matrix, u + e * matrix));
  const packed = ids.every((b, e) => {
    const now = backend.wasm.HEAPF32;
    now.fill(NaN, out, out + cout);
    asm._FusedMatMul(a, 4 * shapes, 3, b, 4 * (shapes + 3), 3, 0, 0, 0, 0, 0, 0, y);
    const after = backend.wasm.HEAPF32;
    for (let o = 0; o < cout; o++) if (after[out + o] !== after[u + e * matrix + o]) return false;
    return true;
  });
  asm.dispose_data(a);
  asm.dispose_data(y);
  if (!packed) for (const id of ids) asm.dispose_data(id);
  asm.free(memory);
  if (!packed) return null;
  const entry = { ids };
  filters.set(filterIndex, entry);
  return entry;
}

/** Bytes of one gather_vectors record (copy_runs.wat). */
const GATHER_RECORD_BYTES = 32;

/**
 * gather_vectors' records for selecting source channels `indices`, one per 4 output channels:
 * plain (1) when they are 4 consecutive source channels, else lane by lane (0) from each lane's
 * source channel (a lane past the last reads that one again).
 * @param {readonly number[]} indices
 * @returns {Int32Array}
 */
function gatherRecords(indices) {
  const vectors = Math.ceil(indices.length / 4);
  const ints = new Int32Array((GATHER_RECORD_BYTES / 4) * vectors);
  for (let j = 0; j < vectors; j++) {
    const wanted = indices.slice(4 * j, 4 * j + 4);
    const plain = wanted.length === 4 && wanted.every((c, lane) => c === wanted[0] + lane) ? 1 : 0;
    const offsets = [0, 1, 2, 3].map((lane) => 4 * wanted[Math.min(lane, wanted.length - 1)]);
    ints.set([16 * j, wanted.length, plain, ...offsets], (GATHER_RECORD_BYTES / 4) * j);
  }
  return ints;
}

/** The clamp of activation codes 0 (none), 1 (relu) and 2 (relu6), of fused gathers and of slimc's convs: [lo, hi]. */
const ACTIVATION_CLAMPS = /** @type {const} */ ([
  [-Infinity, Infinity],
  [0, Infinity],
  [0, 6],
]);

// ---- the plan ----

/** The wasm heap's limit in this build (emscripten's getHeapMax: 4 GB less one 64 KB page). */
const WASM_HEAP_MAX = 4294901760;

/** The exports the plan calls, with the arity each has in the build the plan is made for. */
const EXPORT_ARITY = /** @type {Readonly<Record<string, number>>} */ ({
  FusedConv2D: 23,
  FusedDepthwiseConv2D: 23,
  MaxPool: 17,
  AvgPool: 14,
  Add: 8,
  AddN: 4,
  Relu: 3,
  Relu6: 3,
  Sigmoid: 2,
  Multiply: 8,
  Softmax: 4,
  _FusedMatMul: 13,
  malloc: 1,
  free: 1,
  register_tensor: 3,
  dispose_data: 1,
});

/** The exports every plan calls besides those of its steps. */
// _FusedMatMul: Winograd convs' products (winogradConv), whatever steps the plan has.
const PLAN_BASE_EXPORTS = ['malloc', 'free', 'register_tensor', 'dispose_data', '_FusedMatMul'];

/**
 * Why the plan cannot run against this backend, or null when it can: the backend must be the
 * version the module was compiled for, and every export the plan calls must be there with the
 * arity it has in that version.
 * @param {ModelSpec} model
 * @param {EncodedPlan} plan
 * @returns {string | null}
 */
function planMismatch(model, plan) {
  if (version_wasm !== model.backendVersion)
    return 'tfjs-backend-wasm ' + version_wasm + ' runs, the plan was compiled for ' + model.backendVersion;
  const asm = wasmBackend().wasm?.asm;
  if (asm === undefined) return 'the wasm module exposes no kernel exports';
  for (const name of [...PLAN_BASE_EXPORTS, ...plan.exports]) {
    const f = asm[name];
    if (typeof f !== 'function') return 'the wasm module has no export ' + name;
    if (f.length !== EXPORT_ARITY[name])
      return 'the wasm export ' + name + ' takes ' + f.length + ' arguments, the plan passes ' + EXPORT_ARITY[name];
  }
  return null;
}

/**
 * A plan instantiated for one batch size: its arena on the wasm heap, a registered backend
 * tensor per slot, and the steps as closures over fixed integer arguments.
 * @typedef {{ scale: number, shift: number, act: 0 | 1 | 2 }} GatherNorm a fused gather's batch norm: heap pointers (shift -1: none)
 * @typedef {{
 *   batch: number,
 *   run: () => void,
 *   runTimed: (samples: number[][]) => void,
 *   inputPointers: number[],
 *   outputPointers: number[],
 *   dispose: () => void,
 * }} PlanInstance
 */

/**
 * Runs of consecutive channels of a selection: [from, to, length], the selected channels landing
 * at consecutive channels from `to` (the plan builder uses this too, for the copies of concats).
 * @param {readonly number[]} indices
 * @param {number} [to]
 * @returns {[number, number, number][]}
 */
export function channelRuns(indices, to = 0) {
  /** @type {[number, number, number][]} */
  const runs = [];
  for (let j = 0; j < indices.length;) {
    let length = 1;
    while (j + length < indices.length && indices[j + length] === indices[j] + length) length++;
    runs.push([indices[j], to + j, length]);
    j += length;
  }
  return runs;
}

/**
 * @param {PlanSpec} plan
 * @param {number} batch
 * @param {number[]} weightIds backend tensor ids of the uploaded weights
 * @param {number[]} weightPointers where each uploaded weight's floats sit on the heap
 * @param {(k: number) => readonly number[]} selection the channel list of constant k
 * @param {ConvKernels | null} convs slimc's conv kernels, for the convs they run (null: XNNPACK runs all)
 * @param {Map<number, WinogradFilter> | null} winograd the model's transformed filters by filter
 *   index, shared by its plans, for Winograd convs (null: none runs as Winograd)
 * @returns {PlanInstance | null} null when the heap cannot hold the arena
 */
function instantiatePlan(plan, batch, weightIds, weightPointers, selection, convs, winograd) {
  const backend = wasmBackend();
  const wasm = backend.wasm;
  const asm = /** @type {Record<string, WasmExport>} */ (wasm.asm);
  const arenaBytes = plan.arena * batch * 4;
  const kernels = channelKernels(wasm);
  /** Channels of a value (the last axis). @param {number} value */
  const channelsOf = (value) => {
    const shape = plan.values[value].shape;
    return shape[shape.length - 1];
  };
  /** [H, W, C] of a value per sample ([1, 1, C] for rank 2). @param {number} value */
  const hwc = (value) => {
    const shape = plan.values[value].shape;
    return shape.length === 3 ? shape : [1, 1, shape[0]];
  };
  /**
   * A conv's output [H, W, C], and where it goes: its first column and the channels per pixel of
   * its value (a conv writing into a column buffer writes C of them; others, all from 0).
   * @param {EncodedStep} step
   */
  const convOutput = (step) => {
    const [ho, wo, channels] = hwc(/** @type {number} */ (step[3]));
    const into = step.length > 17 ? [/** @type {number} */ (step[17]), /** @type {number} */ (step[18])] : null;
    return into === null
      ? { ho, wo, cout: channels, column: 0, stride: channels }
      : { ho, wo, cout: into[1], column: into[0], stride: channels };
  };
  // Gathers with a batch norm, or of short runs, run 4 output channels at a time; the others copy
  // runs (memory.copy beats lane loads on runs of 8 channels or more).
  /** @param {EncodedStep} step */
  const byVectors = (step) => {
    if (step[0] !== 'gather' || kernels === null) return false;
    const indices = selection(step[4]);
    return step.length > 5 || indices.length < 8 * channelRuns(indices).length;
  };
  // The convs slimc's kernels run, and the zero-bordered copy of the input those that pad read:
  // one buffer, as large as the largest such input.
  /** @param {EncodedStep} step */
  const bySlimcConv = (step) => {
    if (convs === null || step[0] !== 'conv2d') return false;
    const [filter, bias] = [step[4], step[5]];
    // The last block reads up to 3 floats past the filter's and the bias's ends (lanes it never
    // stores): never past the heap's end.
    const heapEnd = wasm.HEAPU8.length - 16;
    const { ho, wo, cout } = convOutput(step);
    if (weightPointers[filter] + 4 * product([step[6], step[7], hwc(step[2])[2], cout]) > heapEnd) return false;
    if (bias >= 0 && weightPointers[bias] + 4 * cout > heapEnd) return false;
    return slimcConvRuns(step, hwc(step[2])[2], [ho, wo, cout], convs.fma);
  };
  // Winograd convs (winogradConvRuns): a padded copy of the input to whole tiles, the transformed
  // input V and the products M (16 matrices each, one buffer each as large as the largest), and
  // the transformed filters U of every such conv.
  /** @param {EncodedStep} step */
  const byWinograd = (step) => {
    if (convs === null || winograd === null || step[0] !== 'conv2d') return false;
    const bias = step[5];
    const { ho, wo, cout } = convOutput(step);
    // wino_out reads the bias in whole vectors: never past the heap's end.
    if (bias >= 0 && weightPointers[bias] + 16 * Math.ceil(cout / 4) > wasm.HEAPU8.length - 16) return false;
    return winogradConvRuns(step, hwc(step[2])[2], [ho, wo, cout], convs.fma);
  };
  const winogradConvs = plan.steps.map(byWinograd);
  /** [tile rows, tile columns, cin4] of a Winograd conv. @param {EncodedStep} step */
  const tilesOf = (step) => {
    const [ho, wo] = hwc(/** @type {number} */ (step[3]));
    return [Math.ceil(ho / 2), Math.ceil(wo / 2), 4 * Math.ceil(hwc(/** @type {number} */ (step[2]))[2] / 4)];
  };
  let [vFloats, mFloats, zeroFloats, shapeInts] = [0, 0, CONV_BLOCK_CHANNELS, 0];
  const slimcConvs = plan.steps.map((step, i) => !winogradConvs[i] && bySlimcConv(step));
  let padFloats = 0;
  plan.steps.forEach((step, i) => {
    if (!winogradConvs[i]) return;
    const [th, tw, cin4] = tilesOf(step);
    const [cin, cout] = [hwc(/** @type {number} */ (step[2]))[2], convOutput(step).cout];
    // The last vector of a pixel reads up to 3 floats past it: slack after the padded input and M
    // (and, as for slimc's convs, the `left` pixels the pad kernel may zero past the last image).
    const left = /** @type {number} */ (step[15]);
    padFloats = Math.max(padFloats, (batch * (2 * th + 2) * (2 * tw + 2) + left) * cin + 4);
    vFloats = Math.max(vFloats, 16 * batch * th * tw * cin4);
    mFloats = Math.max(mFloats, 16 * batch * th * tw * cout + 4);
    shapeInts += 6; // the two shapes _FusedMatMul takes
    zeroFloats = Math.max(zeroFloats, 4 * Math.ceil(cout / 4));
  });
  plan.steps.forEach((step, i) => {
    if (!slimcConvs[i] || step[0] !== 'conv2d') return;
    const [, , xValue, , , , , , , , , , top, right, bottom, left] = step;
    const [h, w, cin] = hwc(xValue);
    // The pad kernel zeroes `left` pixels past the last row of the last image: slack for them.
    if (top + right + bottom + left > 0) padFloats = Math.max(padFloats, (batch * (h + top + bottom) * (w + left + right) + left) * cin);
  });
  // Each gather's and copy's channel runs ([from, to, length]), one list per source.
  const runLists = plan.steps.map((step) => {
    if (step[0] === 'gather') return byVectors(step) ? [] : [channelRuns(selection(step[4]))];
    if (step[0] !== 'copy') return [];
    const [, , , ...from] = step;
    return from.map(([, runs]) => runs);
  });
  // Shapes and id lists some exports take by pointer, copy_runs' run tables, gather_vectors'
  // records and norm vectors (16-byte aligned: 4 ints of slack each), after the arena.
  let scratchInts = 0;
  plan.steps.forEach((step, i) => {
    // XNNPACK's conv into columns of a wider value: its dense output, then a run table of one run.
    if (step[0] === 'conv2d' && step.length > 17 && !slimcConvs[i] && !winogradConvs[i]) {
      const { ho, wo, cout } = convOutput(step);
      scratchInts += batch * ho * wo * cout + 3 + 3;
    }
  });
  for (const step of plan.steps) {
    scratchInts += step[0] === 'add' ? step.length - 3 : step[0] === 'dense' || step[0] === 'mul' ? 6 : 0;
    // Per 4 output channels a record and 4 floats each of scale and shift; 3 slacks to align.
    const vectors = byVectors(step) ? Math.ceil(channelsOf(/** @type {number} */ (step[3])) / 4) : 0;
    if (vectors > 0) scratchInts += (GATHER_RECORD_BYTES / 4 + 8) * vectors + 12;
  }
  if (kernels !== null) for (const lists of runLists) for (const runs of lists) scratchInts += 3 * runs.length;
  // The padded input and zeros (the bias of convs without one), each aligned to 16 bytes; V, M, U.
  const directConvs = slimcConvs.includes(true) || winogradConvs.includes(true);
  if (directConvs) scratchInts += padFloats + 3 + 3 + zeroFloats;
  if (winogradConvs.includes(true)) scratchInts += vFloats + mFloats + shapeInts + 8;
  // The Winograd convs' filters, transformed and packed once per model (null: no heap for them).
  for (const [i, step] of plan.steps.entries()) {
    if (!winogradConvs[i]) continue;
    const [cin, cout] = [hwc(/** @type {number} */ (step[2]))[2], convOutput(step).cout];
    const filter = /** @type {number} */ (step[4]);
    const filters = /** @type {Map<number, WinogradFilter>} */ (winograd);
    if (winogradFiltersOf(filters, filter, weightPointers[filter], cin, cout, /** @type {ConvKernels} */ (convs).fma) === null) return null;
  }
  const bytes = arenaBytes + 4 * scratchInts + 64;
  if (bytes > WASM_HEAP_MAX) return null;
  const base = asm.malloc(bytes) >>> 0;
  if (base === 0) return null;
  const arena = Math.ceil(base / 64) * 64;
  let scratch = (arena + arenaBytes) >>> 2;
  /** @param {number[]} ints */
  const scratchArray = (ints) => {
    wasm.HEAP32.set(ints, scratch);
    const pointer = scratch * 4;
    scratch += ints.length;
    return pointer;
  };
  /** Bytes (a multiple of 4) at a 16-byte boundary of the scratch area. @param {Uint8Array} data */
  const scratchVectors = (data) => {
    scratch = Math.ceil(scratch / 4) * 4;
    wasm.HEAPU8.set(data, scratch * 4);
    const pointer = scratch * 4;
    scratch += data.length / 4;
    return pointer;
  };
  // slimc's convs: the padded input's buffer and the zero bias, 16-byte aligned.
  let [padBuffer, zeroBias, vBuffer, mBuffer] = [0, 0, 0, 0];
  if (directConvs) {
    scratch = Math.ceil(scratch / 4) * 4;
    padBuffer = scratch * 4;
    scratch += Math.ceil(padFloats / 4) * 4;
    zeroBias = scratch * 4;
    wasm.HEAPF32.fill(0, scratch, scratch + zeroFloats);
    scratch += zeroFloats;
  }
  if (winogradConvs.includes(true)) {
    scratch = Math.ceil(scratch / 4) * 4;
    vBuffer = scratch * 4;
    scratch += vFloats;
    mBuffer = scratch * 4;
    scratch += Math.ceil(mFloats / 4) * 4;
  }
  /** Tensor ids registered for Winograd convs' matrices (disposed with the plan). */
  const matrixIds = /** @type {number[]} */ ([]);
  /** @param {number} floats @param {number} pointer */
  const registered = (floats, pointer) => {
    const id = backend.dataIdNextNumber++;
    asm.register_tensor(id, floats, pointer);
    matrixIds.push(id);
    return id;
  };
  const slotIds = plan.slots.map((slot) => {
    const id = backend.dataIdNextNumber++;
    asm.register_tensor(id, slot.size * batch, arena + slot.offset * batch * 4);
    return id;
  });
  /** @param {number} value */
  const idOf = (value) => slotIds[plan.values[value].slot];
  /** @param {number} value */
  const pointerOf = (value) => arena + plan.slots[plan.values[value].slot].offset * batch * 4;
  /** @param {number} value */
  const sizeOf = (value) => batch * product(plan.values[value].shape);
  /** @param {number} w */
  const weightId = (w) => (w < 0 ? 0 : weightIds[w]);

  const steps = plan.steps.map((step, i) =>
    winogradConvs[i] ? winogradConv(/** @type {EncodedConv} */ (step)) : stepClosure(step, runLists[i], slimcConvs[i]),
  );

  /**
   * A conv as Winograd F(2x2, 3x3): the input padded to whole tiles, transformed (wino_in), 16
   * products by XNNPACK's GEMM (`_FusedMatMul`, with the model's transformed filters), and the
   * output transform with bias and clamp (wino_out).
   * @param {EncodedConv} step
   * @returns {() => void}
   */
  function winogradConv(step) {
    const [, , xValue, yValue, filterIndex, biasIndex, , , , , , , top, , , left, act] = step;
    const { pad, winogradIn, winogradOut } = /** @type {ConvKernels} */ (convs);
    const gemm = asm._FusedMatMul;
    const [h, w, cin] = hwc(xValue);
    const { ho, wo, cout, column, stride } = convOutput(step);
    const [th, tw, cin4] = tilesOf(step);
    const [hp, wp] = [2 * th + 2, 2 * tw + 2];
    const rows = batch * th * tw;
    const [vStride, mStride] = [rows * cin4, rows * cout];
    // Made (and packed) before the arena was allocated: see winogradFiltersOf.
    const filters = /** @type {WinogradFilter} */ (/** @type {Map<number, WinogradFilter>} */ (winograd).get(filterIndex));
    const small = cout < winogradSlimcProductsBelow(/** @type {ConvKernels} */ (convs).fma);
    const aShape = small ? 0 : scratchArray([1, rows, cin4]);
    const bShape = small ? 0 : scratchArray([1, cin4, cout]);
    const products = small
      ? []
      : Array.from({ length: 16 }, (_, e) => [
          registered(vStride, vBuffer + 4 * e * vStride),
          filters.ids[e],
          registered(mStride, mBuffer + 4 * e * mStride),
        ]);
    // Small: each product as a 1x1 conv over a one-row image of `rows` pixels, on slimc's kernels.
    /** @type {(() => void)[]} */
    const smallProducts = [];
    if (small) {
      const { blocks } = /** @type {ConvKernels} */ (convs);
      const u = /** @type {number} */ (filters.u);
      for (let e = 0; e < 16; e++)
        for (const [first, channels] of convBlocks(cout)) {
          const vectors = Math.ceil(channels / 4);
          const block = blocks[vectors];
          const lanes = channels - 4 * (vectors - 1);
          const [a, wAt, mAt] = [vBuffer + 4 * e * vStride, u + 4 * (e * cin4 * cout + first), mBuffer + 4 * (e * mStride + first)];
          smallProducts.push(() =>
            block(
              a,
              1,
              4 * vStride,
              4 * vStride,
              0,
              4 * cin4,
              wAt,
              4 * cout,
              zeroBias,
              mAt,
              4 * cout,
              lanes,
              1,
              cin4,
              1,
              rows,
              -Infinity,
              Infinity,
            ),
          );
        }
    }
    const [lo, hi] = ACTIVATION_CLAMPS[/** @type {0 | 1 | 2} */ (act)];
    const row = 4 * cin * wp;
    const x = pointerOf(xValue);
    const [vin, vout] = [Math.ceil(cin / 4), Math.ceil(cout / 4)];
    const bias = biasIndex < 0 ? zeroBias : weightPointers[biasIndex];
    const y = pointerOf(yValue) + 4 * column;
    return () => {
      pad(x, padBuffer, batch, h, 4 * w * cin, top, 4 * left * cin, hp, row);
      winogradIn(padBuffer, 4 * cin, row, row * hp, batch, th, tw, vin, cin - 4 * (vin - 1), vBuffer, 4 * vStride);
      for (const [a, b, m] of products) gemm(a, aShape, 3, b, bShape, 3, 0, 0, 0, 0, 0, 0, m);
      for (const product of smallProducts) product();
      winogradOut(
        mBuffer,
        4 * mStride,
        4 * cout,
        bias,
        y,
        4 * stride,
        4 * stride * wo,
        4 * stride * wo * ho,
        batch,
        th,
        tw,
        ho,
        wo,
        vout,
        cout - 4 * (vout - 1),
        lo,
        hi,
      );
    };
  }

  /**
   * A copy of channel runs from a value with `channels` channels into one with `yChannels`, every
   * pixel: by copy_runs over a run table in the scratch area, or in JS where it is missing.
   * @param {number} xValue
   * @param {number} yValue
   * @param {readonly (readonly [number, number, number])[]} runs
   * @returns {() => void}
   */
  function channelCopy(xValue, yValue, runs) {
    const [channels, yChannels] = [xValue, yValue].map(channelsOf);
    const pixels = yChannels === 0 ? 0 : sizeOf(yValue) / yChannels;
    const [from, to] = [pointerOf(xValue), pointerOf(yValue)];
    if (kernels !== null) {
      const copyRuns = kernels.copyRuns;
      const table = scratchArray(runs.flatMap(([first, column, length]) => [4 * first, 4 * column, 4 * length]));
      const end = table + 12 * runs.length;
      return () => copyRuns(from, 4 * channels, to, 4 * yChannels, pixels, table, end);
    }
    return () => {
      const heap = wasm.HEAPF32;
      for (const [first, column, length] of runs)
        copyRun(heap, (from >>> 2) + first, channels, (to >>> 2) + column, yChannels, length, pixels);
    };
  }

  /**
   * A gather 4 output channels at a time by gather_vectors, with the batch norm after it if `norm`.
   * @param {number} xValue
   * @param {number} yValue
   * @param {readonly number[]} indices
   * @param {GatherNorm | null} norm
   * @returns {() => void}
   */
  function gatherVectors(xValue, yValue, indices, norm) {
    const gatherKernel = /** @type {ChannelKernels} */ (kernels).gatherVectors;
    const [channels, yChannels] = [xValue, yValue].map(channelsOf);
    const pixels = yChannels === 0 ? 0 : sizeOf(yValue) / yChannels;
    const [from, to] = [pointerOf(xValue), pointerOf(yValue)];
    const records = gatherRecords(indices);
    const table = scratchVectors(new Uint8Array(records.buffer));
    const end = table + records.byteLength;
    if (norm === null) return () => gatherKernel(from, 4 * channels, to, 4 * yChannels, pixels, table, end, 0, 0, 0, 0);
    // The norm's vectors padded to whole vectors of 4 (the kernel reads 4 at a time).
    const padded = 4 * Math.ceil(yChannels / 4);
    /** @param {number} pointer */
    const vector = (pointer) => {
      const floats = new Float32Array(padded);
      if (pointer >= 0) floats.set(wasm.HEAPF32.subarray(pointer >>> 2, (pointer >>> 2) + yChannels));
      return scratchVectors(new Uint8Array(floats.buffer));
    };
    const [scale, shift] = [vector(norm.scale), vector(norm.shift)];
    const [lo, hi] = ACTIVATION_CLAMPS[norm.act];
    return () => gatherKernel(from, 4 * channels, to, 4 * yChannels, pixels, table, end, scale, shift, lo, hi);
  }

  /**
   * `copy`, then the batch norm `norm` over its output in JS (where the wasm kernels are missing).
   * @param {() => void} copy
   * @param {number} yValue
   * @param {GatherNorm | null} norm
   * @returns {() => void}
   */
  function normed(copy, yValue, norm) {
    if (norm === null) return copy;
    const channels = channelsOf(yValue);
    const size = sizeOf(yValue);
    const [lo, hi] = ACTIVATION_CLAMPS[norm.act];
    const [y, scale, shift] = [pointerOf(yValue) >>> 2, norm.scale >>> 2, norm.shift >>> 2];
    return () => {
      copy();
      const heap = wasm.HEAPF32;
      for (let i = 0; i < size; i++) {
        const c = i % channels;
        const v = Math.fround(heap[y + i] * heap[scale + c]) + (norm.shift < 0 ? 0 : heap[shift + c]);
        heap[y + i] = Math.min(Math.max(v, lo), hi);
      }
    };
  }

  /**
   * A conv by slimc's kernels: the input copied into the zero-bordered buffer if the conv pads,
   * then one kernel call per block of output channels (convBlocks).
   * @param {EncodedConv} step
   * @returns {() => void}
   */
  function slimcConv(step) {
    const [, , xValue, yValue, filterIndex, biasIndex, kh, kw, sh, sw, , , top, right, bottom, left, act] = step;
    const { blocks, pad } = /** @type {ConvKernels} */ (convs);
    const [h, w, cin] = hwc(xValue);
    const { ho, wo, cout, column, stride } = convOutput(step);
    // slimcConvRuns took only activations 0-2.
    const [lo, hi] = ACTIVATION_CLAMPS[/** @type {0 | 1 | 2} */ (act)];
    const pads = top + right + bottom + left > 0;
    const [hp, wp] = [h + top + bottom, w + left + right];
    const x = pointerOf(xValue);
    const source = pads ? padBuffer : x;
    const row = 4 * cin * wp;
    const image = row * hp;
    const [filter, bias, y] = [weightPointers[filterIndex], biasIndex < 0 ? -1 : weightPointers[biasIndex], pointerOf(yValue) + 4 * column];
    /** @type {(() => void)[]} */
    const calls = [];
    for (const [first, channels] of convBlocks(cout)) {
      const vectors = Math.ceil(channels / 4);
      const block = blocks[vectors];
      const lanes = channels - 4 * (vectors - 1);
      const [wAt, biasAt, yAt] = [filter + 4 * first, bias < 0 ? zeroBias : bias + 4 * first, y + 4 * first];
      calls.push(() =>
        block(
          source,
          batch,
          image,
          row,
          sh * row,
          4 * cin * sw,
          wAt,
          4 * cout,
          biasAt,
          yAt,
          4 * stride,
          lanes,
          kh,
          kw * cin,
          ho,
          wo,
          lo,
          hi,
        ),
      );
    }
    const padInput = () => pad(x, padBuffer, batch, h, 4 * w * cin, top, 4 * left * cin, hp, row);
    if (pads) calls.unshift(padInput);
    if (calls.length === 1) return calls[0];
    return () => {
      for (const call of calls) call();
    };
  }

  /**
   * @param {EncodedStep} step
   * @param {readonly (readonly (readonly [number, number, number])[])[]} runLists the step's channel runs, per source
   * @param {boolean} bySlimc whether slimc's kernels run the step (a conv)
   * @returns {() => void}
   */
  function stepClosure(step, runLists, bySlimc) {
    switch (step[0]) {
      case 'conv2d':
      case 'depthwise': {
        if (bySlimc) return slimcConv(step);
        const [op, , xValue, yValue, filterIndex, biasIndex, kh, kw, sh, sw, dh, dw, top, right, bottom, left, act] = step;
        const f = asm[op === 'conv2d' ? 'FusedConv2D' : 'FusedDepthwiseConv2D'];
        const [h, w, cin] = hwc(xValue);
        const { ho, wo, cout, column, stride } = convOutput(step);
        const [x, filter, bias] = [idOf(xValue), weightId(filterIndex), weightId(biasIndex)];
        /** @param {number} y */
        const fusedConv = (y) => () =>
          void f(x, batch, h, w, filter, kh, kw, bias, top, right, bottom, left, 0, dh, dw, sh, sw, cin, cout, act, 0, 0, y);
        if (step.length <= 17) return fusedConv(idOf(yValue));
        // Into columns of a wider value: XNNPACK writes a dense output, copied there as one run.
        const pixels = batch * ho * wo;
        scratch = Math.ceil(scratch / 4) * 4;
        const dense = scratch * 4;
        scratch += pixels * cout;
        const run = fusedConv(registered(pixels * cout, dense));
        const to = pointerOf(yValue);
        if (kernels !== null) {
          const copyRuns = kernels.copyRuns;
          const table = scratchArray([0, 4 * column, 4 * cout]);
          return () => {
            run();
            copyRuns(dense, 4 * cout, to, 4 * stride, pixels, table, table + 12);
          };
        }
        return () => {
          run();
          copyRun(wasm.HEAPF32, dense >>> 2, cout, (to >>> 2) + column, stride, cout, pixels);
        };
      }
      case 'max_pool': {
        const [, , xValue, yValue, kh, kw, sh, sw, top, right, bottom, left] = step;
        const f = asm.MaxPool;
        const [h, w, c] = hwc(xValue);
        const [x, y] = [idOf(xValue), idOf(yValue)];
        return () => void f(x, batch, h, w, kh, kw, top, right, bottom, left, 1, 1, sh, sw, c, c, y);
      }
      case 'avg_pool': {
        const [, , xValue, yValue, kh, kw, sh, sw, top, right, bottom, left] = step;
        const f = asm.AvgPool;
        const [h, w, c] = hwc(xValue);
        const [x, y] = [idOf(xValue), idOf(yValue)];
        return () => void f(x, batch, h, w, kh, kw, top, right, bottom, left, sh, sw, c, y);
      }
      case 'add': {
        const [, , yValue, ...xValues] = step;
        const y = idOf(yValue);
        if (xValues.length === 2) {
          const f = asm.Add;
          const [a, b] = xValues.map(idOf);
          const shape = scratchArray([sizeOf(yValue)]);
          return () => void f(a, shape, 1, b, shape, 1, 0, y);
        }
        const f = asm.AddN;
        const ids = scratchArray(xValues.map(idOf));
        const count = xValues.length;
        return () => void f(ids, count, 0, y);
      }
      case 'relu':
      case 'relu6': {
        const [op, , xValue, yValue] = step;
        const f = asm[op === 'relu' ? 'Relu' : 'Relu6'];
        const [x, y] = [idOf(xValue), idOf(yValue)];
        return () => void f(x, 0, y);
      }
      case 'sigmoid': {
        const [, , xValue, yValue] = step;
        const f = asm.Sigmoid;
        const [x, y] = [idOf(xValue), idOf(yValue)];
        return () => void f(x, y);
      }
      case 'mul': {
        const [, , aValue, bValue, yValue] = step;
        const f = asm.Multiply;
        const [a, b, y] = [idOf(aValue), idOf(bValue), idOf(yValue)];
        const [h, w, c] = hwc(aValue);
        // One factor per channel and sample: [N, H*W, C] times [N, 1, C]; else elementwise.
        const gate = sizeOf(bValue) !== sizeOf(aValue);
        const aShape = scratchArray(gate ? [batch, h * w, c] : [sizeOf(aValue)]);
        const bShape = gate ? scratchArray([batch, 1, c]) : aShape;
        const rank = gate ? 3 : 1;
        return () => void f(a, aShape, rank, b, bShape, rank, 0, y);
      }
      case 'softmax': {
        const [, , xValue, yValue] = step;
        const f = asm.Softmax;
        const shape = plan.values[xValue].shape;
        const channels = shape[shape.length - 1];
        const rows = sizeOf(xValue) / channels;
        const [x, y] = [idOf(xValue), idOf(yValue)];
        return () => void f(x, y, channels, rows);
      }
      case 'dense': {
        const [, , xValue, yValue, weightIndex, biasIndex, act] = step;
        const f = asm._FusedMatMul;
        const inputs = plan.values[xValue].shape[0];
        const outputs = plan.values[yValue].shape[0];
        const aShape = scratchArray([1, batch, inputs]);
        const bShape = scratchArray([1, inputs, outputs]);
        const [x, w, bias, y] = [idOf(xValue), weightId(weightIndex), weightId(biasIndex), idOf(yValue)];
        return () => void f(x, aShape, 3, w, bShape, 3, 0, 0, act, bias, 0, 0, y);
      }
      case 'gather': {
        const [, , xValue, yValue, indices, scaleIndex = -1, shiftIndex = -1, act = 0] = step;
        const norm =
          scaleIndex < 0 ? null : { scale: weightPointers[scaleIndex], shift: shiftIndex < 0 ? -1 : weightPointers[shiftIndex], act };
        return byVectors(step)
          ? gatherVectors(xValue, yValue, selection(indices), norm)
          : normed(channelCopy(xValue, yValue, runLists[0]), yValue, norm);
      }
      case 'copy': {
        const [, , yValue, ...from] = step;
        const copies = from.map(([x], i) => channelCopy(x, yValue, runLists[i]));
        return () => {
          for (const copy of copies) copy();
        };
      }
    }
  }

  return {
    batch,
    run: () => {
      for (let i = 0; i < steps.length; i++) steps[i]();
    },
    // The same walk, each step timed (profile): kept apart so that run pays nothing for it.
    runTimed: (samples) => {
      for (let i = 0; i < steps.length; i++) {
        const start = performance.now();
        steps[i]();
        samples[i].push(1000 * (performance.now() - start));
      }
    },
    inputPointers: plan.inputs.map(pointerOf),
    outputPointers: plan.outputs.map(pointerOf),
    dispose: () => {
      for (const id of [...slotIds, ...matrixIds]) asm.dispose_data(id);
      asm.free(base);
    },
  };
}

// ---- layouts at the border ----

/**
 * NCHW [N, C, H, W] data as NHWC (or back with `inverse`), into `out` at float offset `at`.
 * @param {Float32Array} data
 * @param {readonly number[]} nhwc [N, H, W, C]
 * @param {Float32Array} out
 * @param {number} at
 * @param {boolean} inverse
 */
function transposeInto(data, nhwc, out, at, inverse) {
  const [n, h, w, c] = nhwc;
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const nchwIndex = ((b * c + k) * h + y) * w + x;
          const nhwcIndex = ((b * h + y) * w + x) * c + k;
          if (inverse) out[at + nchwIndex] = data[nhwcIndex];
          else out[at + nhwcIndex] = data[nchwIndex];
        }
}

/**
 * @param {Tensor} t
 * @param {BorderLayout} layout
 */
const fromLayout = (t, layout) => (layout === 'NCHW' ? transposeOwned(t, [0, 2, 3, 1]) : t);
/**
 * @param {Tensor} t
 * @param {BorderLayout} layout
 */
const toLayout = (t, layout) => (layout === 'NCHW' ? transposeOwned(t, [0, 3, 1, 2]) : t);
/**
 * @param {Tensor} t
 * @param {number[]} perm
 */
const transposeOwned = (t, perm) => {
  const u = transpose(t, perm);
  t.dispose();
  return u;
};

// ---- the model ----

/**
 * Checks one input and returns its data as a Float32Array in the source layout, and its batch.
 * @param {unknown} data
 * @param {RuntimeInput} input
 * @param {string} where
 * @returns {[Float32Array, number]}
 */
function inputData(data, input, where) {
  const perSample = product(input.sampleShape);
  const accepted = shapeText(['N', ...input.sampleShape]) + ' (' + input.layout + ', ' + perSample + ' floats per sample)';
  /** @type {Float32Array} */
  let values;
  if (data instanceof Tensor) {
    const ok =
      data.dtype === 'float32' &&
      data.rank === input.sampleShape.length + 1 &&
      data.shape.slice(1).every((/** @type {number} */ d, /** @type {number} */ i) => d === input.sampleShape[i]);
    if (!ok) fail(where, 'expects a float32 tensor of shape ' + accepted + ', got ' + data.dtype + ' ' + shapeText(data.shape));
    if (data.shape[0] === 0) fail(where, 'is empty (batch 0); give at least one sample of shape ' + accepted);
    values = /** @type {Float32Array} */ (data.dataSync());
  } else if (data instanceof Float32Array) {
    if (data.length === 0) fail(where, 'is empty (0 floats); give at least one sample of shape ' + accepted);
    if (data.length % perSample !== 0)
      fail(where, 'expects shape ' + accepted + ', got ' + data.length + ' floats, which is not a positive multiple of ' + perSample);
    values = data;
  } else {
    fail(where, 'expects a Float32Array or a tf.Tensor of shape ' + accepted);
  }
  // x * 0 is NaN exactly for NaN and the infinities: one pass, no branch per element.
  let poison = 0;
  for (let i = 0; i < values.length; i++) poison += values[i] * 0;
  if (poison !== 0) {
    const at = values.findIndex((v) => !Number.isFinite(v));
    fail(where, 'holds a non-finite value (' + values[at] + ' at index ' + at + '); the model computes on finite floats only');
  }
  return [values, values.length / perSample];
}

/**
 * The plan with its slots and values as objects (model.js carries them as tuples).
 * @param {EncodedPlan} plan
 * @returns {PlanSpec}
 */
function decodePlan(plan) {
  return {
    ...plan,
    slots: plan.slots.map(([offset, size]) => ({ offset, size })),
    values: plan.values.map(([slot, shape]) => ({ slot, shape })),
  };
}

/** Plans for this many batch sizes stay built; the least recently used one goes first. */
const PLAN_CACHE_SIZE = 4;

/** @param {unknown} e */
const isWasmTrap = (e) => e instanceof WebAssembly.RuntimeError || (e instanceof Error && /^Aborted\(/.test(e.message));

/**
 * Which kernels run the plan's convolutions: slimc's on one thread (they run on one, and beat
 * XNNPACK's there on the layers they take), XNNPACK's with threads, or as asked.
 * @param {LoadOptions} opts
 * @param {BackendInfo} backend
 * @returns {Pick<RuntimeInfo, 'convolutions' | 'winograd' | 'fma' | 'note'>}
 */
function planConvolutions(opts, backend) {
  const wanted = opts.convolutions ?? (backend.threads > 1 ? 'xnnpack' : 'slimc');
  if (wanted === 'xnnpack') return { convolutions: 'xnnpack', winograd: false, fma: false };
  const winograd = opts.winograd ?? true;
  const { wasm } = wasmBackend();
  if ((opts.fma ?? true) && convKernels(wasm, 'fma') !== null) return { convolutions: 'slimc', winograd, fma: true };
  if (convKernels(wasm, 'simd') !== null) return { convolutions: 'slimc', winograd, fma: false };
  return {
    convolutions: 'xnnpack',
    winograd: false,
    fma: false,
    note: "XNNPACK runs every convolution: slimc's narrow_conv.wasm could not be instantiated",
  };
}

class Model {
  /** @type {ModelSpec} */
  #model;
  /** @type {Tensor[]} */
  #weights;
  /** @type {(Tensor | Int32Array)[]} */
  #constants;
  /** @type {PlanSpec | null} the plan, when this model runs it */
  #plan;
  /** @type {Map<number, PlanInstance>} */
  #instances = new Map();
  /** @type {Map<number, WinogradFilter>} Winograd convs' transformed filters, by filter index. */
  #winogradFilters = new Map();
  #disposed = false;

  /**
   * @param {ModelSpec} model
   * @param {Tensor[]} weights
   * @param {BackendInfo} backend
   * @param {RuntimeInfo} runtime
   */
  constructor(model, weights, backend, runtime) {
    this.#model = model;
    this.#weights = weights;
    this.#plan = runtime.name === 'plan' && model.plan !== null ? decodePlan(model.plan) : null;
    this.#constants = this.#plan === null ? makeConstants(model.constants) : [];
    this.info = Object.freeze({ ...model.info, backend: Object.freeze(backend), runtime: Object.freeze(runtime) });
  }

  /** @param {string} what */
  #usable(what) {
    const name = this.#model.info.name;
    if (this.#disposed) fail(name, what + ' after dispose');
    const unusable = wasmBackend()?.wasm?.slimcUnusable;
    if (unusable !== undefined)
      fail(name, 'the wasm backend is unusable since an earlier failure (' + unusable + '); reload the page or restart the process');
  }

  /**
   * @param {unknown} e
   * @returns {never}
   */
  #trapped(e) {
    if (!isWasmTrap(e)) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    const wasm = wasmBackend()?.wasm;
    if (wasm) wasm.slimcUnusable = reason;
    fail(
      this.#model.info.name,
      'the wasm backend trapped (' + reason + '); its memory may be corrupt, so this and every model on it refuse to run from now on',
    );
  }

  /**
   * Runs the model on a batch. `opts.into`: where to write the output (a Float32Array of the
   * output's size, or, for several outputs, one per output name); it is returned.
   * @param {unknown} x
   * @param {{ into?: Float32Array | Record<string, Float32Array> }} [opts]
   */
  async predict(x, opts = {}) {
    this.#usable('predict');
    const [data, batch, outputs] = this.#prepare(x, opts);
    if (this.#plan !== null) this.#runPlan(this.#plan, data, batch, outputs);
    else await this.#runEngine(data, batch, outputs);
    return this.#result(outputs);
  }

  /**
   * Times every step of the plan on `x`: the median over `opts.runs` runs (default 20) after
   * one untimed run, in microseconds, in plan order. For finding the layers that cost the most;
   * browsers coarsen performance.now(), so there only long steps are measured well.
   * @param {unknown} x
   * @param {{ runs?: number }} [opts]
   * @returns {Promise<{ step: string, op: string, microseconds: number }[]>}
   */
  async profile(x, opts = {}) {
    this.#usable('profile');
    const runs = opts.runs ?? 20;
    if (!Number.isInteger(runs) || runs < 1) fail(this.#model.info.name, 'profile: runs must be a positive integer, got ' + runs);
    const plan = this.#plan;
    if (plan === null)
      fail(this.#model.info.name, 'profile times the plan, and this model runs the engine path: ' + this.info.runtime.note);
    const [data, batch, outputs] = this.#prepare(x, {});
    this.#runPlan(plan, data, batch, outputs);
    /** @type {number[][]} */
    const samples = plan.steps.map(() => []);
    for (let r = 0; r < runs; r++) this.#runPlan(plan, data, batch, outputs, samples);
    return plan.steps.map((step, i) => ({ step: step[1], op: step[0], microseconds: median(samples[i]) }));
  }

  /**
   * The inputs as [data, batch] per input, checked, and the output arrays to fill.
   * @param {unknown} x
   * @param {{ into?: Float32Array | Record<string, Float32Array> }} opts
   * @returns {[[Float32Array, number][], number, Float32Array[]]}
   */
  #prepare(x, opts) {
    const info = this.#model.info;
    // Inputs by name ({ x: data }), or, for a single-input model, the data itself.
    const named = typeof x === 'object' && x !== null && !(x instanceof Tensor) && !ArrayBuffer.isView(x) && !Array.isArray(x);
    if (!named && info.inputs.length > 1) {
      fail(info.name, 'predict takes ' + info.inputs.length + ' inputs by name: ' + info.inputs.map((i) => i.name).join(', '));
    }
    const byName = /** @type {Record<string, unknown>} */ (x);
    const given = named
      ? info.inputs.map((i) => (i.name in byName ? byName[i.name] : fail(info.name, 'input ' + i.name + ' is not given')))
      : [x];
    const data = given.map((d, i) => inputData(d, info.inputs[i], info.name + ': input ' + info.inputs[i].name));
    const batch = data[0][1];
    data.forEach(
      ([, b], i) =>
        b === batch ||
        fail(info.name, 'input ' + info.inputs[i].name + ' has batch ' + b + ', input ' + info.inputs[0].name + ' has ' + batch),
    );
    const outputs = info.outputs.map((o) => {
      const size = batch * product(o.shape.slice(1));
      const target = info.outputs.length === 1 ? opts.into : /** @type {Record<string, Float32Array> | undefined} */ (opts.into)?.[o.name];
      if (target === undefined) return new Float32Array(size);
      if (!(target instanceof Float32Array) || target.length !== size)
        fail(info.name, 'into: output ' + o.name + ' needs a Float32Array of ' + size + ' floats');
      return target;
    });
    return [data, batch, outputs];
  }

  /** @param {Float32Array[]} outputs */
  #result(outputs) {
    const info = this.#model.info;
    return info.outputs.length === 1 ? outputs[0] : Object.fromEntries(info.outputs.map((o, i) => [o.name, outputs[i]]));
  }

  /**
   * @param {PlanSpec} plan
   * @param {[Float32Array, number][]} data
   * @param {number} batch
   * @param {Float32Array[]} outputs
   * @param {number[][]} [samples] per step, where to add its time (profile)
   */
  #runPlan(plan, data, batch, outputs, samples) {
    const info = this.#model.info;
    const instance = this.#instance(plan, batch);
    try {
      const heap = wasmBackend().wasm.HEAPF32;
      data.forEach(([values], i) => {
        const at = instance.inputPointers[i] >>> 2;
        const input = info.inputs[i];
        if (input.layout === 'NCHW') transposeInto(values, nhwcOf(batch, input.sampleShape, true), heap, at, false);
        else heap.set(values, at);
      });
      if (samples === undefined) instance.run();
      else instance.runTimed(samples);
      const after = wasmBackend().wasm.HEAPF32;
      outputs.forEach((out, i) => {
        const at = instance.outputPointers[i] >>> 2;
        const output = info.outputs[i];
        const view = after.subarray(at, at + out.length);
        if (output.layout === 'NCHW') transposeInto(view, nhwcOf(batch, output.shape.slice(1), true), out, 0, true);
        else out.set(view);
      });
    } catch (e) {
      this.#trapped(e);
    }
  }

  /**
   * The plan for `batch`, built on first use; refuses batches whose arena the heap cannot hold.
   * @param {PlanSpec} plan
   * @param {number} batch
   */
  #instance(plan, batch) {
    const cached = this.#instances.get(batch);
    if (cached !== undefined) {
      this.#instances.delete(batch);
      this.#instances.set(batch, cached);
      return cached;
    }
    const entries = this.#weights.map((t) => wasmBackend().dataIdMap.get(t.dataId));
    const [ids, pointers] = [entries.map((e) => e.id), entries.map((e) => e.memoryOffset)];
    const selection = (/** @type {number} */ k) => constantValues(this.#model.constants[k][1]);
    const { convolutions, fma } = this.info.runtime;
    const convs = convolutions === 'slimc' ? convKernels(wasmBackend().wasm, fma === true ? 'fma' : 'simd') : null;
    const winograd = this.info.runtime.winograd === true ? this.#winogradFilters : null;
    let instance = instantiatePlan(plan, batch, ids, pointers, selection, convs, winograd);
    if (instance === null && this.#instances.size > 0) {
      // Free the other batch sizes' arenas and try once more.
      for (const other of this.#instances.values()) other.dispose();
      this.#instances.clear();
      instance = instantiatePlan(plan, batch, ids, pointers, selection, convs, winograd);
    }
    if (instance === null) this.#refuseBatch(batch, plan.arena * 4);
    if (this.#instances.size >= PLAN_CACHE_SIZE) {
      const [oldest, evicted] = this.#instances.entries().next().value ?? [];
      if (oldest !== undefined && evicted !== undefined) {
        evicted.dispose();
        this.#instances.delete(oldest);
      }
    }
    this.#instances.set(batch, instance);
    return instance;
  }

  /**
   * Refuses a batch whose activations do not fit in the wasm heap, naming the largest that does.
   * @param {number} batch
   * @param {number} bytesPerSample
   * @returns {never}
   */
  #refuseBatch(batch, bytesPerSample) {
    const asm = /** @type {Record<string, WasmExport>} */ (wasmBackend().wasm.asm);
    // The largest batch whose arena can be allocated now, by trial allocations.
    let low = 0;
    let high = Math.min(batch - 1, Math.floor(WASM_HEAP_MAX / Math.max(1, bytesPerSample)));
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const p = asm.malloc(mid * bytesPerSample + 4096) >>> 0;
      if (p !== 0) {
        asm.free(p);
        low = mid;
      } else high = mid - 1;
    }
    const mb = (n = 0) => (n / 2 ** 20).toFixed(1) + ' MB';
    fail(
      this.#model.info.name,
      'batch ' +
        batch +
        ' needs ' +
        mb(batch * bytesPerSample) +
        ' of activation memory (' +
        mb(bytesPerSample) +
        ' per sample), more than the wasm heap (at most 4 GB) can hold; ' +
        (low > 0
          ? 'the largest batch that fits now is ' + low + '; split the input into batches of at most ' + low
          : 'not even one sample fits now'),
    );
  }

  /**
   * The engine path: one tfjs kernel call per node through engine().runKernel.
   * @param {[Float32Array, number][]} data
   * @param {number} batch
   * @param {Float32Array[]} outputs
   */
  async #runEngine(data, batch, outputs) {
    const info = this.#model.info;
    // The memory check the plan makes, on the plan's (or an estimate's) figure: a heap that cannot hold it would fail mid-run.
    const bytesPerSample = 4 * this.#model.arenaFloatsPerSample;
    const asm = /** @type {Record<string, WasmExport>} */ (wasmBackend().wasm.asm);
    const need = 2 * batch * bytesPerSample;
    const probe = need > WASM_HEAP_MAX ? 0 : asm.malloc(need) >>> 0;
    if (probe === 0) this.#refuseBatch(batch, 2 * bytesPerSample);
    asm.free(probe);
    try {
      const results = tidy(() => {
        const xs = data.map(([values], i) =>
          fromLayout(tensor(values, [batch, ...info.inputs[i].sampleShape], 'float32'), info.inputs[i].layout),
        );
        return this.#model.forward(this.#weights, this.#constants, xs).map((y, i) => toLayout(y, info.outputs[i].layout));
      });
      try {
        const values = await Promise.all(results.map((t) => t.data()));
        values.forEach((v, i) => outputs[i].set(/** @type {Float32Array} */ (v)));
      } finally {
        results.forEach((t) => t.dispose());
      }
    } catch (e) {
      this.#trapped(e);
    }
  }

  /** One prediction on zeros, so the first real one does not pay for kernel setup. */
  async warmup() {
    const inputs = this.#model.info.inputs;
    /** @param {RuntimeInput} i */
    const zeros = (i) => new Float32Array(product(i.sampleShape));
    await this.predict(inputs.length === 1 ? zeros(inputs[0]) : Object.fromEntries(inputs.map((i) => [i.name, zeros(i)])));
  }

  /** Frees the weight tensors and every plan's arena; the backend stays up for other models. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const instance of this.#instances.values()) instance.dispose();
    this.#instances.clear();
    const asm = /** @type {Record<string, WasmExport>} */ (wasmBackend().wasm.asm);
    for (const { ids, memory } of this.#winogradFilters.values()) {
      for (const id of ids) asm.dispose_data(id);
      if (memory !== undefined) asm.free(memory);
    }
    this.#winogradFilters.clear();
    this.#weights.forEach((t) => t.dispose());
    this.#constants.forEach((t) => t instanceof Tensor && t.dispose());
  }
}

/**
 * [N, H, W, C] of a 4-D border value given in the source layout ([C, H, W] per sample when NCHW).
 * @param {number} batch
 * @param {readonly number[]} sample
 * @param {boolean} nchw
 */
function nhwcOf(batch, sample, nchw) {
  if (!nchw) return [batch, ...sample];
  const [c, h, w] = sample;
  return [batch, h, w, c];
}

/**
 * The engine path's constants: float tensors, and channel indices as Int32Arrays (listed, or a
 * base64 bit mask: bit i of byte i >> 3 set means channel 8 * (i >> 3) + (i & 7) is kept).
 * @param {ModelSpec['constants']} constants
 */
function makeConstants(constants) {
  return constants.map(([dtype, values]) => {
    const list = constantValues(values);
    return dtype === 'int32' ? Int32Array.from(list) : tensor1d([...list], dtype);
  });
}

/**
 * A constant's values: listed, or decoded from a base64 bit mask.
 * @param {ModelSpec['constants'][number][1]} values
 * @returns {readonly number[]}
 */
function constantValues(values) {
  if (typeof values !== 'string') return values;
  return [...atob(values)].flatMap((ch, byte) =>
    [0, 1, 2, 3, 4, 5, 6, 7].filter((bit) => (ch.charCodeAt(0) >> bit) & 1).map((bit) => 8 * byte + bit),
  );
}

/**
 * Loads a model: starts the wasm backend (once per process) and the weights, and picks what
 * runs it: the plan, unless it is unavailable, not asked for, or made for another backend.
 * @param {ModelSpec} model
 * @param {LoadOptions} [opts]
 */
export async function loadModel(model, opts = {}) {
  if (opts.runtime !== undefined && opts.runtime !== 'plan' && opts.runtime !== 'engine') {
    throw new SlimcModelError("load: runtime must be 'plan' or 'engine', got " + String(opts.runtime));
  }
  if (opts.convolutions !== undefined && opts.convolutions !== 'slimc' && opts.convolutions !== 'xnnpack') {
    throw new SlimcModelError("load: convolutions must be 'slimc' or 'xnnpack', got " + String(opts.convolutions));
  }
  for (const flag of /** @type {const} */ (['winograd', 'fma'])) {
    if (opts[flag] !== undefined && typeof opts[flag] !== 'boolean') {
      throw new SlimcModelError(`load: ${flag} must be true or false, got ` + String(opts[flag]));
    }
  }
  const [backend, [bytes, file]] = await Promise.all([startBackend(opts), readWeights(opts.weights, model.weightsFile)]);
  const decoded = decodeWeights(bytes, file, model.weightsLayout);
  /** @type {RuntimeInfo} */
  let runtime;
  if (model.plan === null) runtime = { name: 'engine', note: 'the plan does not cover this graph: ' + model.planUnsupported };
  else if (opts.runtime === 'engine') runtime = { name: 'engine', note: 'asked for by load({ runtime: "engine" })' };
  else {
    const mismatch = planMismatch(model, model.plan);
    runtime = mismatch === null ? { name: 'plan' } : { name: 'engine', note: 'the plan was not run: ' + mismatch };
    if (runtime.name === 'plan') runtime = { ...runtime, ...planConvolutions(opts, backend) };
    if (runtime.name === 'plan' && channelKernels(wasmBackend().wasm) === null)
      runtime = { ...runtime, note: 'channel gathers and concats run in JS, slower: copy_runs.wasm could not be instantiated' };
  }
  if (runtime.name === 'engine') registerChannelKernels();
  const weights = Array.from({ length: model.weightCount }, (_, i) => {
    const [shape, data] = decoded[model.uploadFrom[i] ?? i];
    return tensor(data, [...(model.uploadShapes[i] ?? shape)], 'float32');
  });
  return new Model(model, weights, backend, runtime);
}
