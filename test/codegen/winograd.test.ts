// Winograd F(2x2, 3x3) convs (scripts/winograd_wat.ts, model_runtime.js winogradConv):
// - the transforms alone, as the runtime chains them (pad, wino_in, the 16 products, wino_out), on
//   random shapes, paddings, activations and channel counts of every lane count, against a direct
//   float64 convolution, with NaN canaries around every buffer;
// - a module whose 3x3 convs take the route, odd sizes, batch 1 and 3, against the interpreter,
//   with the transform calls counted so that a plan which silently ran them direct fails.
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivationCode } from '../../src/codegen/plan/plan_types.ts';
import { winogradConvRuns, winogradFilters } from '../../src/codegen/runtime/model_runtime.js';
import { batchNorm, concat, conv2d, gather, model, relu, relu6 } from '../../src/frontends/dsl.ts';
import { interpret } from '../../src/interp/index.ts';
import { Rng } from '../../src/util/random.ts';
import {
  canaryHeap,
  CLAMPS,
  expectClose,
  narrowConvModule,
  outputSize,
  referenceConv,
  runningConvKernels,
  type ConvCase,
  type Kernel,
} from './conv_reference.ts';
import { compileToScratch, type CompiledDir, type EmittedModel } from './emitted.ts';
import { HOST_RELAXED_SIMD } from '../../scripts/relaxed_simd.ts';

/** A 3x3 stride-1 conv: the case of the general ones the transforms compute. */
type WinogradCase = ConvCase & { readonly kernel: readonly [3, 3]; readonly stride: readonly [1, 1] };

describe('the Winograd transforms', () => {
  let kernels: Record<string, Kernel>;
  let memory: WebAssembly.Memory;
  beforeAll(async () => {
    ({ exports: kernels, memory } = await narrowConvModule(128));
  });

  /** One case as the runtime runs it (the products in float64 here), buffers between NaN canaries. */
  function run(c: WinogradCase, x: Float32Array, filter: Float32Array, bias: Float32Array): { y: Float32Array; canariesHeld: boolean } {
    const { heap, place, canariesHeld } = canaryHeap(memory);
    const [ho, wo] = outputSize(c);
    const [th, tw] = [Math.ceil(ho / 2), Math.ceil(wo / 2)];
    const [hp, wp] = [2 * th + 2, 2 * tw + 2];
    const [cin4, vin, vout] = [4 * Math.ceil(c.cin / 4), Math.ceil(c.cin / 4), Math.ceil(c.cout / 4)];
    const rows = c.batch * th * tw;
    // As the runtime lays them out: slack after the padded input and M, the bias read in whole vectors.
    const [xAt, biasAt] = [place(x.length), place(4 * vout)];
    // As the runtime sizes it: the pad kernel may zero `left` pixels past the last image.
    const padFloats = (c.batch * hp * wp + c.pads[3]) * c.cin + 4;
    const padAt = place(padFloats);
    const [vAt, mAt, uAt] = [place(16 * rows * cin4), place(16 * rows * c.cout + 4), place(16 * cin4 * c.cout)];
    const yAt = place(c.batch * ho * wo * c.cout);
    heap.set(x, xAt);
    heap.fill(0, biasAt, biasAt + 4 * vout);
    if (c.bias) heap.set(bias, biasAt);
    const filterAt = place(filter.length);
    heap.set(filter, filterAt);
    winogradFilters(heap, filterAt, c.cin, c.cout, cin4, uAt);
    const row = 4 * c.cin * wp;
    kernels.pad(4 * xAt, 4 * padAt, c.batch, c.h, 4 * c.w * c.cin, c.pads[0], 4 * c.pads[3] * c.cin, hp, row);
    kernels.wino_in(4 * padAt, 4 * c.cin, row, row * hp, c.batch, th, tw, vin, c.cin - 4 * (vin - 1), 4 * vAt, 4 * rows * cin4);
    // M[e] = V[e] x U[e], as XNNPACK's GEMM computes it.
    for (let e = 0; e < 16; e++)
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < c.cout; o++) {
          let sum = 0;
          for (let k = 0; k < cin4; k++) sum += heap[vAt + (e * rows + r) * cin4 + k] * heap[uAt + (e * cin4 + k) * c.cout + o];
          heap[mAt + (e * rows + r) * c.cout + o] = sum;
        }
    const [lo, hi] = CLAMPS[c.act];
    const yRow = 4 * c.cout * wo;
    kernels.wino_out(
      4 * mAt,
      4 * rows * c.cout,
      4 * c.cout,
      4 * biasAt,
      4 * yAt,
      4 * c.cout,
      yRow,
      yRow * ho,
      c.batch,
      th,
      tw,
      ho,
      wo,
      vout,
      c.cout - 4 * (vout - 1),
      lo,
      hi,
    );
    return { y: heap.slice(yAt, yAt + c.batch * ho * wo * c.cout), canariesHeld: canariesHeld() };
  }

  it('compute what a direct 3x3 convolution does, and write nothing else', () => {
    const anyCase: fc.Arbitrary<WinogradCase> = fc
      .record({
        kernel: fc.constant([3, 3] as const),
        stride: fc.constant([1, 1] as const),
        batch: fc.integer({ min: 1, max: 3 }),
        h: fc.integer({ min: 1, max: 9 }),
        w: fc.integer({ min: 1, max: 9 }),
        cin: fc.integer({ min: 1, max: 13 }),
        cout: fc.integer({ min: 1, max: 13 }),
        pads: fc.tuple(fc.nat(1), fc.nat(1), fc.nat(1), fc.nat(1)),
        act: fc.constantFrom<ConvCase['act']>(0, 1, 2),
        bias: fc.boolean(),
      })
      .filter((c) => Math.min(...outputSize(c)) >= 1);
    fc.assert(
      fc.property(anyCase, fc.integer({ min: 1, max: 1000 }), (c, seed) => {
        const rng = new Rng(seed);
        const x = rng.fill(c.batch * c.h * c.w * c.cin, () => 2 * rng.normal());
        const filter = rng.fill(9 * c.cin * c.cout, () => rng.normal());
        const bias = rng.fill(c.cout, () => rng.normal());
        const { y, canariesHeld } = run(c, x, filter, bias);
        expect(canariesHeld, 'nothing written outside the output, V, M and the padded input').toBe(true);
        expectClose(y, referenceConv(c, x, filter, bias), `y of ${JSON.stringify(c)}`);
      }),
      { numRuns: 150, seed: 11 },
    );
  });

  it('are taken by 3x3 stride-1 convs from 32 channels or more: to 32 (65 with fused multiply-adds) or more on outputs 4 pixels a side, to fewer on 4 tiles', () => {
    const step = (kernel: number, stride: number, dilation: number, act: ActivationCode) =>
      ['conv2d', 'c', 0, 1, 0, -1, kernel, kernel, stride, stride, dilation, dilation, 1, 1, 1, 1, act] as const;
    expect(winogradConvRuns(step(3, 1, 1, 1), 32, [8, 8, 64])).toBe(true);
    expect(winogradConvRuns(step(3, 1, 1, 0), 64, [4, 5, 32])).toBe(true);
    expect(winogradConvRuns(step(3, 1, 1, 1), 31, [8, 8, 64])).toBe(false);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [8, 8, 16])).toBe(true);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [3, 3, 16])).toBe(true);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [2, 8, 16])).toBe(true);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [2, 6, 16])).toBe(false);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [4, 4, 32])).toBe(true);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [2, 2, 32])).toBe(false);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [3, 8, 32])).toBe(false);
    // With fused multiply-adds slimc's kernels take products up to 64 channels, on 4 tiles or more.
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [3, 8, 64], true)).toBe(true);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [3, 8, 65], true)).toBe(false);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [2, 2, 64], true)).toBe(false);
    expect(winogradConvRuns(step(3, 2, 1, 1), 64, [8, 8, 64])).toBe(false);
    expect(winogradConvRuns(step(3, 1, 2, 1), 64, [8, 8, 64])).toBe(false);
    expect(winogradConvRuns(step(5, 1, 1, 1), 64, [8, 8, 64])).toBe(false);
    expect(winogradConvRuns(step(3, 1, 1, 5), 64, [8, 8, 64])).toBe(false);
    expect(winogradConvRuns(step(3, 1, 1, 1), 64, [1, 8, 64])).toBe(false);
  });
});

describe('a module whose 3x3 convs run as Winograd', () => {
  // Odd and even sizes (half tiles at the bottom and right), same and valid padding, channel
  // counts of every lane count, bias or not, relu and relu6 fused.
  const graph = model('winograd-routes', { input: [7, 9, 35] }, (x) => {
    const a = relu(conv2d(x, 33, { name: 'same-relu', bias: true }));
    // Fewer than 32 output channels: the products run on slimc's kernels (blocks 8 + 5, 16 + 1).
    const narrow = [conv2d(x, 13, { name: 'narrow', bias: true }), relu(conv2d(a, 17, { padding: 'valid', name: 'narrow-valid' }))];
    // Two convs whose channels a concat read only by a selection takes: they write into its buffer.
    const joined = concat(conv2d(x, 33, { name: 'into-first' }), conv2d(x, 34, { name: 'into-second' }));
    return [
      relu6(conv2d(a, 34, { name: 'relu6' })),
      conv2d(a, 36, { padding: 'valid', name: 'valid' }),
      conv2d(x, 35, { kernel: 1, name: 'pointwise' }),
      conv2d(relu(batchNorm(gather(joined, [0, 5, 40, 66, 3, 34]))), 8, { kernel: 1, name: 'after-columns' }),
      ...narrow,
    ];
  });
  /** Winograd convs; 'direct' is load({ winograd: false }). */
  const WINOGRAD_CONVS = 7;
  let out: CompiledDir;
  const models: Record<string, EmittedModel> = {};
  let calls = 0;
  beforeAll(async () => {
    out = await compileToScratch(graph);
    models.slimc = await out.exports.load({ convolutions: 'slimc' });
    models.xnnpack = await out.exports.load({ convolutions: 'xnnpack' });
    models.direct = await out.exports.load({ winograd: false });
    const kernels = runningConvKernels();
    const winogradIn = kernels.winogradIn;
    kernels.winogradIn = (...args: number[]) => {
      calls++;
      winogradIn(...args);
    };
  });
  afterAll(async () => {
    for (const m of Object.values(models)) m.dispose();
    await out?.cleanup();
  });

  it('writes the channels of convs read only through a concat into its buffer', () => {
    const into = out.compiled.module.forward.plan.steps.filter((s) => s.op === 'conv2d' && s.into !== undefined).map((s) => s.name);
    expect(into.sort()).toEqual(['into-first', 'into-second']);
  });

  it('says whether they do, and refuses a choice that is not a boolean', async () => {
    expect(models.slimc.info.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: true, fma: HOST_RELAXED_SIMD });
    expect(models.direct.info.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: false, fma: HOST_RELAXED_SIMD });
    await expect(out.exports.load({ winograd: 'yes' as unknown as boolean })).rejects.toThrow(/winograd must be true or false, got yes/);
  });

  it.each([
    ['slimc', 1],
    ['slimc', 3],
    ['xnnpack', 3],
    ['direct', 1],
  ] as const)('matches the interpreter (%s, batch %i)', async (kernels, batch) => {
    const rng = new Rng(batch);
    const x = rng.fill(batch * 7 * 9 * 35, () => 2 * rng.normal());
    const expected = await interpret(graph, x);
    const before = calls;
    const actual = (await models[kernels].predict(x)) as Record<string, Float32Array>;
    expect(calls - before, 'Winograd convs in one predict').toBe(kernels === 'slimc' ? WINOGRAD_CONVS : 0);
    models[kernels].info.outputs.forEach(({ name }, i) => expectClose(actual[name], expected[i], name));
  });
});

describe('the transformed filters of a model', () => {
  it('are freed with it: 30 loads, predicts and disposes leave the wasm heap as it was', async () => {
    // 1 MB of transformed filters for XNNPACK to pack, 128 KB kept for slimc's kernels: a leak
    // of either, 30 times over, would grow the heap.
    const graph = model('winograd-memory', { input: [8, 8, 128] }, (x) => [
      conv2d(x, 128, { name: 'wide' }),
      conv2d(x, 16, { name: 'narrow' }),
    ]);
    const out = await compileToScratch(graph);
    try {
      const x = new Rng(3).fill(8 * 8 * 128, () => 1);
      const cycle = async () => {
        const m = await out.exports.load();
        expect(m.info.runtime.winograd).toBe(true);
        await m.predict(x);
        m.dispose();
      };
      for (let i = 0; i < 3; i++) await cycle();
      const wasm = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm;
      const [heap, tensors] = [wasm.HEAPU8.length, tf.memory().numTensors];
      for (let i = 0; i < 30; i++) await cycle();
      expect(wasm.HEAPU8.length).toBe(heap);
      expect(tf.memory().numTensors).toBe(tensors);
    } finally {
      await out.cleanup();
    }
  });
});
