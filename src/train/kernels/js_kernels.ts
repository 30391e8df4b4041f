// Backward kernels written as plain loops over the backend's data, for the two that wasm gets
// wrong or lacks and whose work is memory-bound (one pass over the data):
// - MaxPoolGrad: tfjs-backend-wasm 4.22.0 returns wrong gradients (off by 30-60% on small
//   hand-checked cases), which would make training with max pooling silently wrong; on wasm the
//   loop runs in train_kernels.wat (the three pools of the MNIST network's step: ~12 -> ~6 ms);
// - UnsortedSegmentSum: missing on wasm; the gradient of gather (channel selection) needs it.
// Semantics follow tfjs-backend-cpu, the reference the tests compare against.
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapPointer, trainKernels } from './wasm_kernels.ts';

type KernelArgs = Parameters<tf.KernelFunc>[0];

const backendOf = (args: KernelArgs) => args.backend as tf.KernelBackend;

/** A new backend tensor holding `values` (write() is the one constructor every backend has). */
function output(args: KernelArgs, shape: readonly number[], dtype: 'float32' | 'int32', values: Float32Array | Int32Array): tf.TensorInfo {
  return { dataId: backendOf(args).write(values, [...shape], dtype), shape: [...shape], dtype };
}

function read(args: KernelArgs, t: tf.TensorInfo): Float32Array | Int32Array {
  const values = backendOf(args).readSync(t.dataId);
  if (!(values instanceof Float32Array || values instanceof Int32Array)) throw new Error(`expected numeric data, got ${t.dtype}`);
  return values;
}

/**
 * A kernel's input and output data as typed arrays: on wasm, views of the backend's heap (no
 * copies, no fresh JavaScript arrays, whose page faults cost more than the loop); elsewhere a
 * copy of the inputs, and the outputs written back by `finish`. The outputs start zeroed.
 */
export function heapArrays(
  args: KernelArgs,
  inputs: readonly tf.TensorInfo[],
  shapes: readonly (readonly number[])[],
): { inputs: Float32Array[]; outs: Float32Array[]; finish: () => tf.TensorInfo[] } {
  const backend = backendOf(args);
  if (backend instanceof BackendWasm) {
    // Allocate first: growing the heap would detach views taken before.
    const infos = shapes.map((shape) => backend.makeOutput([...shape], 'float32'));
    const outs = infos.map((info) => (backend.typedArrayFromHeap(info) as Float32Array).fill(0));
    return { inputs: inputs.map((t) => backend.typedArrayFromHeap(t) as Float32Array), outs, finish: () => infos };
  }
  const outs = shapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  return {
    inputs: inputs.map((t) => read(args, t) as Float32Array),
    outs,
    finish: () => outs.map((out, i) => output(args, shapes[i], 'float32', out)),
  };
}

/**
 * dL/dx of a max pool: each dy goes to the first largest input of its window (row-major order),
 * as tfjs-backend-cpu does; padded positions never win.
 */
export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: 'same' | 'valid' | number;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const io = heapArrays(args, [input, dy], [input.shape]);
  const [x, g] = io.inputs;
  const [dx] = io.outs;
  const [n, h, w, c] = input.shape;
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const backend = args.backend;
  const kernels = backend instanceof BackendWasm ? trainKernels(backend) : null;
  if (backend instanceof BackendWasm && kernels !== null) {
    const [out] = io.finish();
    const [xp, dyp, dxp] = [input, dy, out].map((t) => heapPointer(backend, t));
    kernels.max_pool_grad(xp, dyp, dxp, n, h, w, c, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, top, left);
    return out;
  }
  // The offsets (in x) of one window's taps inside the image, row-major; the window's channel
  // 0 is added per position.
  const taps = new Int32Array(filterHeight * filterWidth);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left;
        let count = 0;
        for (let ky = 0; ky < filterHeight; ky++) {
          const iy = y0 + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < filterWidth; kx++) {
            const ix = x0 + kx;
            if (ix >= 0 && ix < w) taps[count++] = ((b * h + iy) * w + ix) * c;
          }
        }
        const from = ((b * outHeight + oy) * outWidth + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          let at = -1;
          let best = -Infinity;
          for (let t = 0; t < count; t++) {
            const k = taps[t] + ch;
            if (x[k] > best) {
              best = x[k];
              at = k;
            }
          }
          if (at >= 0) dx[at] += g[from + ch];
        }
      }
    }
  }
  return io.finish()[0];
}

/** out[s, ...] = sum of x[i, ...] over i with segmentIds[i] = s (ids outside [0, S) dropped). */
export function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const values = read(args, x);
  const ids = read(args, segmentIds);
  const rows = ids.length;
  const inner = rows === 0 ? 0 : values.length / rows;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const from = i * inner;
    const to = s * inner;
    for (let k = 0; k < inner; k++) out[to + k] += values[from + k];
  }
  return output(args, outShape, x.dtype === 'int32' ? 'int32' : 'float32', out);
}
