// What the conv-kernel tests share: a case of a convolution, the float64 reference it must equal,
// the runtime's narrow_conv.wasm over a memory of its own, and a heap whose buffers lie between
// NaN canaries (a kernel writing one float outside the buffers it owns shows).
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { plainBuildOf } from '../../scripts/build_runtime_kernels.ts';
import { HOST_RELAXED_SIMD } from '../../scripts/relaxed_simd.ts';

/** One of narrow_conv.wasm's exports, called with the integers and floats the runtime passes. */
export type Kernel = (...args: number[]) => void;

export interface ConvCase {
  readonly batch: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly cout: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** top, right, bottom, left */
  readonly pads: readonly [number, number, number, number];
  readonly act: 0 | 1 | 2;
  readonly bias: boolean;
}

/** Activation codes 0 (none), 1 (relu), 2 (relu6) as clamps. */
export const CLAMPS: Readonly<Record<ConvCase['act'], readonly [number, number]>> = {
  0: [-Infinity, Infinity],
  1: [0, Infinity],
  2: [0, 6],
};

/** The output's height and width. */
export function outputSize(c: ConvCase): [number, number] {
  const [top, right, bottom, left] = c.pads;
  return [
    Math.floor((c.h + top + bottom - c.kernel[0]) / c.stride[0]) + 1,
    Math.floor((c.w + left + right - c.kernel[1]) / c.stride[1]) + 1,
  ];
}

/** NHWC x, HWIO filter: the convolution in float64, then the clamp. */
export function referenceConv(c: ConvCase, x: Float32Array, filter: Float32Array, bias: Float32Array): Float64Array {
  const [ho, wo] = outputSize(c);
  const [kh, kw] = c.kernel;
  const [lo, hi] = CLAMPS[c.act];
  const y = new Float64Array(c.batch * ho * wo * c.cout);
  for (let n = 0; n < c.batch; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let o = 0; o < c.cout; o++) {
          let sum = c.bias ? bias[o] : 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * c.stride[0] + ky - c.pads[0];
              const ix = ox * c.stride[1] + kx - c.pads[3];
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (let i = 0; i < c.cin; i++)
                sum += x[((n * c.h + iy) * c.w + ix) * c.cin + i] * filter[((ky * kw + kx) * c.cin + i) * c.cout + o];
            }
          y[((n * ho + oy) * wo + ox) * c.cout + o] = Math.min(Math.max(sum, lo), hi);
        }
  return y;
}

/** narrow_conv.wasm's plain build over a fresh memory of `pages` 64 KB pages. */
export async function narrowConvModule(
  pages: number,
): Promise<{ readonly exports: Record<string, Kernel>; readonly memory: WebAssembly.Memory }> {
  const memory = new WebAssembly.Memory({ initial: pages });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(await plainBuildOf('narrow_conv')), { env: { memory } });
  return { exports: exports as unknown as Record<string, Kernel>, memory };
}

/** The parts of the runtime's conv kernels the module tests wrap to count calls. */
export interface RunningConvKernels {
  blocks: Record<number, Kernel>;
  winogradIn: Kernel;
}

/**
 * The conv kernels the runtime made for the current backend, in the build the models loaded on
 * this host run (fused multiply-adds where it has relaxed SIMD): the object their plans call
 * through, so that a test may wrap its functions. Throws if no model has made them yet.
 */
export function runningConvKernels(): RunningConvKernels {
  type Builds = Partial<Record<'simd' | 'fma', RunningConvKernels | null>>;
  const wasm = (tf.backend() as unknown as { wasm: { slimcConvKernels?: Builds } }).wasm;
  const kernels = wasm.slimcConvKernels?.[HOST_RELAXED_SIMD ? 'fma' : 'simd'];
  if (!kernels) throw new Error('the runtime made no conv kernels');
  return kernels;
}

/** Floats of NaN before, between and after the placed buffers. */
const CANARY = 64;

/**
 * The memory as a float heap filled with NaN, on which `place` lays out buffers (at multiples of 4
 * floats) with CANARY NaNs around each; `canariesHeld` says whether all of those are still NaN.
 */
export function canaryHeap(memory: WebAssembly.Memory): {
  readonly heap: Float32Array;
  place(floats: number): number;
  canariesHeld(): boolean;
} {
  const heap = new Float32Array(memory.buffer);
  heap.fill(NaN);
  const buffers: [number, number][] = [];
  let at = CANARY;
  return {
    heap,
    place(floats) {
      const offset = at;
      buffers.push([offset, offset + floats]);
      at += Math.ceil(floats / 4) * 4 + CANARY;
      return offset;
    },
    canariesHeld() {
      let from = 0;
      for (const [start, end] of buffers) {
        if (!heap.subarray(from, start).every(Number.isNaN)) return false;
        from = end;
      }
      return heap.subarray(from, at).every(Number.isNaN);
    },
  };
}

/** Every element within 1e-4 relative (float32 against float64 or the interpreter), naming the first off. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i] - expected[i]), `${what}[${i}]`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(expected[i])));
}
