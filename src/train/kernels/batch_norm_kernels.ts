// Training-mode batch norm as two kernels, instead of the dozen tfjs ops (subtract, square, two
// channel means, rsqrt, multiplies, adds) each of which reads and writes the whole activation: a
// step of the MNIST example's network spent about a quarter of its time in them. On wasm they run
// slimc's own SIMD loops (train_kernels.wat) over the backend's memory: forward 3 passes over x,
// backward 2 over x and dy. Elsewhere, or where that module cannot be made, the same in JS.
// Per-channel sums are taken in float64, so the statistics of a large batch lose nothing to
// float32 summation.
//
// Over the last axis of x ([N, C] or [N, H, W, C]), M = x.size / C samples per channel:
//   forward:  mean, var (biased), rstd = 1 / sqrt(var + eps), y = (x - mean) * (gamma * rstd) + beta
//   backward: xhat = (x - mean) * rstd, dbeta = sum dy, dgamma = sum dy * xhat,
//             dx = gamma * rstd * (dy - (dbeta + xhat * dgamma) / M)   (Ioffe & Szegedy)
// With `relu`, the kernels also do the relu after the norm: y = max(y, 0), and dy counts only
// where y > 0 (recomputed from x in float32 exactly as the forward pass computed it, so the mask
// is the forward's). y is computed in float32 (mean, gamma * rstd and beta rounded to float32) on
// both paths, so wasm and JS give the same y.
import type * as tf from '@tensorflow/tfjs-core';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapArrays } from './js_kernels.ts';
import { heapPointer as pointerOf, heapScratch as scratch, trainKernels, type TrainKernels } from './wasm_kernels.ts';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Inputs x, gamma, beta; attributes epsilon, relu. Outputs y, mean, variance (biased), rstd. */
export const BATCH_NORM_TRAIN = 'SlimcBatchNormTrain';
/** Inputs dy, x, mean, rstd, gamma, beta; attribute relu. Outputs dx, dgamma, dbeta. */
export const BATCH_NORM_TRAIN_GRAD = 'SlimcBatchNormTrainGrad';

const channelsOf = (t: tf.TensorInfo) => t.shape[t.shape.length - 1];
const f32 = Math.fround;

/** The forward output of one element in float32, as bn_affine computes it. */
const normed = (x: number, mean: number, scale: number, shift: number) => f32(f32(f32(x - mean) * scale) + shift);

export function batchNormTrain(args: KernelArgs): tf.TensorInfo[] {
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { epsilon, relu = false } = args.attrs as unknown as { epsilon: number; relu?: boolean };
  const channels = channelsOf(x);
  const backend = args.backend;
  const kernels = backend instanceof BackendWasm ? trainKernels(backend) : null;
  if (backend instanceof BackendWasm && kernels !== null) return batchNormTrainWasm(backend, kernels, x, gamma, beta, epsilon, relu);
  const io = heapArrays(args, [x, gamma, beta], [x.shape, [channels], [channels], [channels]]);
  const [xs, g, b] = io.inputs;
  const [y, meanOut, varianceOut, rstdOut] = io.outs;
  const size = xs.length;
  const count = size / channels;
  // Two passes (the mean, then the squares about it): no cancellation in the variance.
  const mean = new Float64Array(channels);
  for (let i = 0; i < size; i += channels) for (let c = 0; c < channels; c++) mean[c] += xs[i + c];
  for (let c = 0; c < channels; c++) mean[c] /= count;
  const variance = new Float64Array(channels);
  for (let i = 0; i < size; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = xs[i + c] - mean[c];
      variance[c] += d * d;
    }
  }
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    variance[c] /= count;
    meanOut[c] = mean[c];
    varianceOut[c] = variance[c];
    rstdOut[c] = 1 / Math.sqrt(variance[c] + epsilon);
    scale[c] = rstdOut[c] * g[c];
  }
  const floor = relu ? 0 : -Infinity;
  for (let i = 0; i < size; i += channels) {
    for (let c = 0; c < channels; c++) y[i + c] = Math.max(normed(xs[i + c], meanOut[c], scale[c], b[c]), floor);
  }
  return io.finish();
}

function batchNormTrainWasm(
  backend: BackendWasm,
  kernels: TrainKernels,
  x: tf.TensorInfo,
  gamma: tf.TensorInfo,
  beta: tf.TensorInfo,
  epsilon: number,
  relu: boolean,
): tf.TensorInfo[] {
  const channels = channelsOf(x);
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  // Allocate everything first: growing the heap would detach views taken before.
  const outs = [[...x.shape], [channels], [channels], [channels]].map((shape) => backend.makeOutput(shape, 'float32'));
  const s = scratch(backend, channels, 2, 1); // f64: sums, mean; f32: gamma * rstd
  try {
    const [meanOut, varianceOut, rstdOut] = outs.slice(1).map((t) => backend.typedArrayFromHeap(t) as Float32Array);
    const g = backend.typedArrayFromHeap(gamma) as Float32Array;
    const [sums, mean] = [s.double(0), s.double(1)];
    const xPointer = pointerOf(backend, x);
    kernels.bn_sums(xPointer, rows, channels, 0, s.f64[0], 0);
    for (let c = 0; c < channels; c++) [mean[c], sums[c]] = [sums[c] / rows, 0];
    kernels.bn_sums(xPointer, rows, channels, s.f64[1], s.f64[0], 1);
    const scale = s.float(0);
    for (let c = 0; c < channels; c++) {
      const variance = sums[c] / rows;
      [meanOut[c], varianceOut[c], rstdOut[c]] = [mean[c], variance, 1 / Math.sqrt(variance + epsilon)];
      scale[c] = rstdOut[c] * g[c];
    }
    const [m, q, y] = [outs[1], beta, outs[0]].map((t) => pointerOf(backend, t));
    kernels.bn_affine(xPointer, 0, rows, channels, m, s.f32[0], q, 0, y, 0, 0, relu ? 1 : 0);
  } finally {
    s.free();
  }
  return outs;
}

type GradInputs = Record<'dy' | 'x' | 'mean' | 'rstd' | 'gamma' | 'beta', tf.TensorInfo>;

export function batchNormTrainGrad(args: KernelArgs): tf.TensorInfo[] {
  const inputs = args.inputs as GradInputs;
  const { relu = false } = args.attrs as unknown as { relu?: boolean };
  const channels = channelsOf(inputs.x);
  const backend = args.backend;
  const kernels = backend instanceof BackendWasm ? trainKernels(backend) : null;
  if (backend instanceof BackendWasm && kernels !== null) return batchNormTrainGradWasm(backend, kernels, inputs, relu);
  const { dy, x, mean, rstd, gamma, beta } = inputs;
  const io = heapArrays(args, [dy, x, mean, rstd, gamma, beta], [x.shape, [channels], [channels]]);
  const [g, xs, m, r, gam, bet] = io.inputs;
  const [dx, dGammaOut, dBetaOut] = io.outs;
  const size = xs.length;
  const count = size / channels;
  const scale = Float32Array.from(gam, (v, c) => r[c] * v);
  // dy through the relu: kept where the forward output was above 0.
  const grad = (i: number, c: number) => (!relu || normed(xs[i + c], m[c], scale[c], bet[c]) > 0 ? g[i + c] : 0);
  const dBeta = new Float64Array(channels);
  const dGamma = new Float64Array(channels);
  for (let i = 0; i < size; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = grad(i, c);
      dBeta[c] += d;
      dGamma[c] += d * (xs[i + c] - m[c]) * r[c];
    }
  }
  // dx = a * dy + b * xhat + d per channel.
  const a = new Float64Array(channels);
  const bx = new Float64Array(channels);
  const d0 = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    a[c] = gam[c] * r[c];
    bx[c] = (-a[c] * dGamma[c]) / count;
    d0[c] = (-a[c] * dBeta[c]) / count;
    dGammaOut[c] = dGamma[c];
    dBetaOut[c] = dBeta[c];
  }
  for (let i = 0; i < size; i += channels) {
    for (let c = 0; c < channels; c++) dx[i + c] = a[c] * grad(i, c) + bx[c] * (xs[i + c] - m[c]) * r[c] + d0[c];
  }
  return io.finish();
}

function batchNormTrainGradWasm(backend: BackendWasm, kernels: TrainKernels, inputs: GradInputs, relu: boolean): tf.TensorInfo[] {
  const { dy, x, mean, rstd, gamma, beta } = inputs;
  const channels = channelsOf(x);
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  const outs = [[...x.shape], [channels], [channels]].map((shape) => backend.makeOutput(shape, 'float32'));
  // f64: mean, sum dy, sum dy (x - mean); f32: p, q, s of bn_affine, and the forward's gamma * rstd.
  const s = scratch(backend, channels, 3, 4);
  try {
    const [dGammaOut, dBetaOut] = outs.slice(1).map((t) => backend.typedArrayFromHeap(t) as Float32Array);
    const [m, r, g] = [mean, rstd, gamma].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
    const [mean64, dBeta, dxm] = [0, 1, 2].map((k) => s.double(k));
    const [p, q, a, scale] = [0, 1, 2, 3].map((k) => s.float(k));
    for (let c = 0; c < channels; c++) [mean64[c], scale[c]] = [m[c], r[c] * g[c]];
    const [xPointer, dyPointer, meanPointer, betaPointer] = [x, dy, mean, beta].map((t) => pointerOf(backend, t));
    // The relu mask, from the forward output (x - mean) * scale + beta; none without relu.
    const [maskScale, maskShift] = relu ? [s.f32[3], betaPointer] : [0, 0];
    kernels.bn_grad_sums(dyPointer, xPointer, rows, channels, s.f64[0], s.f64[1], s.f64[2], meanPointer, maskScale, maskShift);
    // dx = a * dy + (b * rstd) * (x - mean) + d: a = gamma * rstd, b = -a * dgamma / M, d = -a * dbeta / M.
    for (let c = 0; c < channels; c++) {
      const dGamma = dxm[c] * r[c];
      a[c] = g[c] * r[c];
      p[c] = ((-a[c] * dGamma) / rows) * r[c];
      q[c] = (-a[c] * dBeta[c]) / rows;
      [dGammaOut[c], dBetaOut[c]] = [dGamma, dBeta[c]];
    }
    const dxPointer = pointerOf(backend, outs[0]);
    kernels.bn_affine(xPointer, dyPointer, rows, channels, meanPointer, s.f32[0], s.f32[1], s.f32[2], dxPointer, maskScale, maskShift, 0);
  } finally {
    s.free();
  }
  return outs;
}
