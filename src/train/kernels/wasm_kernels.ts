// The instance of train_kernels.wat over the backend's memory, made once per backend, and the
// heap helpers of the kernels that call it. JavaScript loops over the wasm heap run several times
// slower than the same loops in wasm (each element access goes through a view of a growable
// memory), so memory-bound kernels that tfjs lacks or gets wrong are written there.
import type * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { kernelModule } from '../../codegen/runtime/model_runtime.js';
import { TRAIN_KERNELS_WASM } from './train_kernels_wasm.ts';

/** train_kernels.wat's exports (pointers are byte offsets in the backend's memory). */
export interface TrainKernels {
  bn_sums(x: number, rows: number, channels: number, mean: number, acc: number, centered: number): void;
  bn_grad_sums(
    dy: number,
    x: number,
    rows: number,
    channels: number,
    mean: number,
    dbeta: number,
    dxm: number,
    m32: number,
    mp: number,
    mq: number,
  ): void;
  bn_affine(
    x: number,
    dy: number,
    rows: number,
    channels: number,
    m: number,
    p: number,
    q: number,
    s: number,
    out: number,
    mp: number,
    mq: number,
    clamp: number,
  ): void;
  max_pool_grad(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    sh: number,
    sw: number,
    fh: number,
    fw: number,
    top: number,
    left: number,
  ): void;
}

/** The parts of the backend's emscripten module the kernels use. */
interface WasmHeap {
  readonly asm: Record<string, unknown>;
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

const instances = new WeakMap<object, TrainKernels | null>();

/**
 * train_kernels.wat over `backend`'s memory, made as the emitted runtime makes its own kernel
 * modules (kernelModule); null where it cannot be made (callers loop in JS).
 */
export function trainKernels(backend: BackendWasm): TrainKernels | null {
  const module = backend.wasm as unknown as WasmHeap;
  const known = instances.get(module);
  if (known !== undefined) return known;
  const kernels = kernelModule(
    module as unknown as Parameters<typeof kernelModule>[0],
    TRAIN_KERNELS_WASM,
  ) as unknown as TrainKernels | null;
  instances.set(module, kernels);
  return kernels;
}

/** Where a backend tensor's data starts on the heap (bytes). */
export const heapPointer = (backend: BackendWasm, t: tf.TensorInfo): number => backend.dataIdMap.get(t.dataId)?.memoryOffset as number;

/**
 * Per-channel scratch vectors on the wasm heap (float64 first, then float32), zeroed, for one
 * kernel call: their byte offsets, views to fill and read, and `free`.
 */
export function heapScratch(backend: BackendWasm, channels: number, doubles: number, floats: number) {
  const module = backend.wasm as unknown as WasmHeap;
  const bytes = 8 * channels * doubles + 4 * channels * floats;
  const base = module._malloc(bytes + 16);
  const start = Math.ceil(base / 16) * 16;
  const buffer = module.HEAPU8.buffer;
  module.HEAPU8.fill(0, start, start + bytes);
  const f64 = Array.from({ length: doubles }, (_, k) => start + 8 * channels * k);
  const f32 = Array.from({ length: floats }, (_, k) => start + 8 * channels * doubles + 4 * channels * k);
  return {
    f64,
    f32,
    double: (k: number) => new Float64Array(buffer, f64[k], channels),
    float: (k: number) => new Float32Array(buffer, f32[k], channels),
    free: () => module._free(base),
  };
}
