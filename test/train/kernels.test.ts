// The replacement backward kernels on wasm against tfjs-backend-cpu's, and slimc's batch norm
// kernels (wasm SIMD) against their JS loops (what runs on cpu), on random shapes, and the
// gradient registration they rely on. Every wasm run must leave no tensor behind.
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendName } from '../../src/interp/backend.ts';
import { flippedFilter } from '../../src/train/kernels/conv_backprop.ts';
import { prepareTraining } from '../../src/train/setup.ts';
import { Rng } from '../../src/util/random.ts';
import { trainKernelsWasmSource } from '../../scripts/build_train_kernels.ts';
import { trainKernels } from '../../src/train/kernels/wasm_kernels.ts';

interface Data {
  readonly data: Float32Array | Int32Array;
  readonly shape: readonly number[];
}

const rng = new Rng(7);
const random = (shape: readonly number[]): Data => ({
  data: rng.fill(
    shape.reduce((a, b) => a * b, 1),
    () => rng.normal(),
  ),
  shape,
});

/** Runs `body` on `backend` with tensors of the given data; returns the result's values. */
async function on(
  backend: BackendName,
  inputs: Record<string, Data>,
  body: (t: Record<string, tf.Tensor>) => tf.Tensor,
): Promise<Float32Array> {
  await initBackend(backend);
  const before = tf.memory();
  const tensors = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.data, [...v.shape], v.data instanceof Int32Array ? 'int32' : 'float32')]),
  );
  const out = body(tensors);
  const values = out.dataSync() as Float32Array;
  out.dispose();
  Object.values(tensors).forEach((t) => t.dispose());
  const after = tf.memory();
  expect(after.numTensors, `${backend}: tensors leaked`).toBe(before.numTensors);
  expect(after.numDataBuffers, `${backend}: data buffers leaked`).toBe(before.numDataBuffers);
  return Float32Array.from(values);
}

const kernel = (name: string, attrs: object) => (t: Record<string, tf.Tensor>) =>
  tf.engine().runKernel(name, t, attrs as tf.NamedAttrMap) as tf.Tensor;

/** Largest difference relative to the reference's largest magnitude. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1e-6, ...expected.map(Math.abs));
  return Math.max(0, ...actual.map((v, i) => Math.abs(v - expected[i]))) / scale;
}

async function expectSameOnWasmAndCpu(inputs: Record<string, Data>, body: (t: Record<string, tf.Tensor>) => tf.Tensor, tolerance = 1e-5) {
  const reference = await on('cpu', inputs, body);
  const ours = await on('wasm', inputs, body);
  expect(relativeError(ours, reference)).toBeLessThan(tolerance);
}

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly pad: Pad;
}

function convCase(): ConvCase {
  const kernel: [number, number] = [rng.int(1, 4), rng.int(1, 3)];
  const pads: Pad[] = [
    'same',
    'valid',
    [
      [0, 0],
      [rng.int(0, 2), rng.int(0, 2)],
      [rng.int(0, 2), rng.int(0, 2)],
      [0, 0],
    ],
  ];
  return {
    n: rng.int(1, 3),
    h: rng.int(kernel[0] + 1, 11),
    w: rng.int(kernel[1] + 1, 9),
    cin: rng.int(1, 5),
    kernel,
    strides: [rng.int(1, 3), rng.int(1, 3)],
    pad: pads[rng.int(0, 2)],
  };
}

const describeCase = (c: ConvCase) => `x[${c.n},${c.h},${c.w},${c.cin}] k${c.kernel} s${c.strides} pad ${JSON.stringify(c.pad)}`;

/** Output shape of the forward conv, computed by tfjs. */
function outShape(c: ConvCase, cout: number, depthwise: boolean): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.n, c.h, c.w, c.cin],
    [...c.kernel, c.cin, cout] as [number, number, number, number],
    c.strides,
    1,
    c.pad,
    undefined,
    depthwise,
  );
  return [c.n, info.outHeight, info.outWidth, depthwise ? c.cin * cout : cout];
}

beforeAll(async () => {
  await initBackend('cpu');
  await initBackend('wasm');
  await prepareTraining('wasm');
});

describe('tfjs gradients', () => {
  it('are registered, so tf.grad works and gives the true derivative', async () => {
    const dx = await on('wasm', { x: { data: Float32Array.of(1, -2, 3), shape: [3] } }, (t) =>
      tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, x)))(t.x),
    );
    expect([...dx]).toEqual([2, -4, 6]);
  });
});

describe('flippedFilter', () => {
  it('reverses the taps and exchanges the channels, as tf.reverse then tf.transpose do', async () => {
    await initBackend('wasm');
    const filter = tf.tensor4d(
      Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i),
      [2, 3, 4, 5],
    );
    const expected = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const ours = flippedFilter(filter);
    expect(ours.shape).toEqual([2, 3, 5, 4]);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(expected.dataSync()));
    [filter, expected, ours].forEach((t) => t.dispose());
  });
});

describe('wasm backward kernels match tfjs-backend-cpu', () => {
  it('Conv2DBackpropFilter and Conv2DBackpropInput on 12 random shapes', async () => {
    for (let i = 0; i < 12; i++) {
      const c = convCase();
      const cout = rng.int(1, 5);
      const filterShape = [...c.kernel, c.cin, cout];
      const dyShape = outShape(c, cout, false);
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
      const x = random([c.n, c.h, c.w, c.cin]);
      const dy = random(dyShape);
      const filter = random(filterShape);
      await expectSameOnWasmAndCpu({ x, dy }, kernel('Conv2DBackpropFilter', { ...attrs, filterShape }), 1e-5).catch((e) => {
        throw new Error(`filter grad, ${describeCase(c)}: ${e}`);
      });
      await expectSameOnWasmAndCpu({ dy, filter }, kernel('Conv2DBackpropInput', { ...attrs, inputShape: x.shape }), 1e-5).catch((e) => {
        throw new Error(`input grad, ${describeCase(c)}: ${e}`);
      });
    }
  });

  it('depthwise backprop (input and filter, channel multiplier 1 and 2) on 10 random shapes', async () => {
    for (let i = 0; i < 10; i++) {
      const c = convCase();
      const multiplier = i % 2 === 0 ? 1 : 2;
      const filterShape = [...c.kernel, c.cin, multiplier];
      const attrs = { strides: c.strides, dilations: [1, 1], pad: c.pad, dimRoundingMode: undefined };
      const x = random([c.n, c.h, c.w, c.cin]);
      const dy = random(outShape(c, multiplier, true));
      const filter = random(filterShape);
      await expectSameOnWasmAndCpu({ x, dy }, kernel('DepthwiseConv2dNativeBackpropFilter', { ...attrs, filterShape })).catch((e) => {
        throw new Error(`depthwise filter grad, ${describeCase(c)}: ${e}`);
      });
      await expectSameOnWasmAndCpu({ dy, filter }, kernel('DepthwiseConv2dNativeBackpropInput', { ...attrs, inputShape: x.shape })).catch(
        (e) => {
          throw new Error(`depthwise input grad, ${describeCase(c)}: ${e}`);
        },
      );
    }
  });

  it('MaxPoolGrad, including ties (relu zeros) and same padding, on 8 random shapes', async () => {
    for (let i = 0; i < 8; i++) {
      const k = rng.int(2, 3);
      const s = rng.int(1, 3);
      const pad = i % 2 === 0 ? 'same' : 'valid';
      const xs = [rng.int(1, 3), rng.int(k, 9), rng.int(k, 9), rng.int(1, 4)];
      // Half the inputs are exact zeros, as after a relu: windows with tied maxima are common.
      const x = random(xs);
      x.data.forEach((v, j) => (x.data[j] = Math.max(0, v)));
      const forward = (t: Record<string, tf.Tensor>) => tf.maxPool(t.x as tf.Tensor4D, k, s, pad);
      const y = await on('cpu', { x }, forward);
      const yShape = tf.backend_util.computePool2DInfo(xs as [number, number, number, number], k, s, 1, pad).outShape;
      const dy = random(yShape);
      await expectSameOnWasmAndCpu(
        { dy, input: x, output: { data: y, shape: yShape } },
        kernel('MaxPoolGrad', { filterSize: k, strides: s, pad }),
      ).catch((e) => {
        throw new Error(`max pool ${k}/${s} ${pad} on [${xs}]: ${e}`);
      });
    }
  });

  it('the wasm training kernels: the bytes training loads are what train_kernels.wat assembles to, and they load', async () => {
    const shipped = await readFile(new URL('../../src/train/kernels/train_kernels_wasm.ts', import.meta.url), 'utf8');
    expect(shipped, 'run node --import tsx scripts/build_train_kernels.ts').toBe(await trainKernelsWasmSource());
    // On wasm the SIMD module runs, not the JS loops (which give the same numbers, slower).
    await initBackend('wasm');
    const kernels = trainKernels(tf.backend() as BackendWasm);
    expect(kernels && Object.keys(kernels).sort()).toEqual(['bn_affine', 'bn_grad_sums', 'bn_sums', 'max_pool_grad']);
  });

  it('training batch norm, forward and backward, on 10 random shapes (rank 2 and 4, every channel count mod 4)', async () => {
    /** A multi-output kernel's outputs, flattened end to end. */
    const all = (name: string, attrs: object) => (t: Record<string, tf.Tensor>) =>
      tf.tidy(() => tf.concat((tf.engine().runKernel(name, t, attrs as tf.NamedAttrMap) as tf.Tensor[]).map((o) => tf.reshape(o, [-1]))));
    for (let i = 0; i < 10; i++) {
      const channels = i < 4 ? i + 1 : rng.int(5, 70);
      const shape = i % 3 === 0 ? [rng.int(2, 40), channels] : [rng.int(1, 4), rng.int(1, 7), rng.int(1, 7), channels];
      // Far from zero mean: the variance must not cancel.
      const x = random(shape);
      x.data.forEach((v, j) => (x.data[j] = 3 * v + 5));
      const gamma = random([channels]);
      const beta = random([channels]);
      // Half the cases with the relu after the norm (the gradient then masked where y <= 0).
      const relu = i % 2 === 1;
      const where = `[${shape}]${relu ? ' with relu' : ''}`;
      await expectSameOnWasmAndCpu({ x, gamma, beta }, all('SlimcBatchNormTrain', { epsilon: 1e-5, relu })).catch((e) => {
        throw new Error(`forward ${where}: ${e}`);
      });
      const stats = await on('cpu', { x, gamma, beta }, all('SlimcBatchNormTrain', { epsilon: 1e-5, relu }));
      const size = x.data.length;
      if (relu) expect(Math.min(...stats.subarray(0, size))).toBe(0);
      const mean = { data: stats.slice(size, size + channels), shape: [channels] };
      const rstd = { data: stats.slice(size + 2 * channels), shape: [channels] };
      const grads = all('SlimcBatchNormTrainGrad', { relu });
      await expectSameOnWasmAndCpu({ dy: random(shape), x, mean, rstd, gamma, beta }, grads).catch((e) => {
        throw new Error(`backward ${where}: ${e}`);
      });
    }
  });

  it('the gradient of gather along channels (UnsortedSegmentSum), repeated indices summing', async () => {
    const x = random([2, 3, 3, 5]);
    const indices = { data: Int32Array.of(4, 0, 0, 2), shape: [4] };
    const w = random([2, 3, 3, 4]);
    await expectSameOnWasmAndCpu({ x, indices, w }, (t) => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, t.indices, 3), t.w)))(t.x));
  });
});

/** The i-th tensor; the others are freed. */
function pick(ts: tf.Tensor[], i: number): tf.Tensor {
  ts.forEach((t, j) => j !== i && t.dispose());
  return ts[i];
}

/** A filter with d-1 zeros between taps: a dilated conv is the plain conv with this filter. */
function spreadFilter(f: tf.Tensor4D, d: readonly [number, number]): tf.Tensor4D {
  const [kh, kw, ci, co] = f.shape;
  const rows = tf.reshape(
    tf.pad(tf.reshape(f, [kh, 1, kw * ci * co]), [
      [0, 0],
      [0, d[0] - 1],
      [0, 0],
    ]),
    [kh * d[0], kw, ci, co],
  );
  const spread = tf.reshape(
    tf.pad(tf.reshape(rows, [kh * d[0], kw, 1, ci * co]), [
      [0, 0],
      [0, 0],
      [0, d[1] - 1],
      [0, 0],
    ]),
    [kh * d[0], kw * d[1], ci, co],
  );
  return tf.slice(spread, [0, 0, 0, 0], [(kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1, ci, co]) as tf.Tensor4D;
}

describe('gradients of dilated convs', () => {
  it('equal the stock gradients of the same conv with a zero-spread filter (conv2d and depthwise)', async () => {
    for (let i = 0; i < 6; i++) {
      const depthwise = i >= 3;
      const d: [number, number] = [rng.int(1, 3), rng.int(2, 3)];
      const kernelSize: [number, number] = [rng.int(2, 3), rng.int(2, 3)];
      const xs = [2, rng.int(7, 10), rng.int(7, 10), 3];
      const cout = depthwise ? 1 : 4;
      const x = random(xs);
      const f = random([...kernelSize, 3, cout]);
      const pad = i % 2 === 0 ? 'same' : 'valid';
      const conv = (v: tf.Tensor4D, w: tf.Tensor4D, dil: [number, number]) =>
        depthwise ? tf.depthwiseConv2d(v, w, 1, pad, 'NHWC', dil) : tf.conv2d(v, w, 1, pad, 'NHWC', dil);
      const info = tf.backend_util.computeConv2DInfo(
        xs as [number, number, number, number],
        f.shape as [number, number, number, number],
        1,
        d,
        pad,
        undefined,
        depthwise,
      );
      const probe = random(info.outShape);
      for (const wrt of [0, 1]) {
        const reference = await on('cpu', { x, f, probe }, (t) =>
          pick(
            tf.grads((v: tf.Tensor, w: tf.Tensor) =>
              tf.sum(tf.mul(conv(v as tf.Tensor4D, spreadFilter(w as tf.Tensor4D, d), [1, 1]), t.probe)),
            )([t.x, t.f]),
            wrt,
          ),
        );
        const ours = await on('wasm', { x, f, probe }, (t) =>
          pick(
            tf.grads((v: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(conv(v as tf.Tensor4D, w as tf.Tensor4D, d), t.probe)))([t.x, t.f]),
            wrt,
          ),
        );
        expect(
          relativeError(ours, reference),
          `${depthwise ? 'depthwise' : 'conv2d'} d${d} k${kernelSize} ${pad} wrt ${wrt ? 'filter' : 'x'}`,
        ).toBeLessThan(1e-5);
      }
    }
  });
});
