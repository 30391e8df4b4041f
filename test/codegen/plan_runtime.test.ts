// The plan runtime's guards and promises, on small graphs: bad input (empty, non-finite, a batch
// the wasm heap cannot hold) is refused with a SlimcModelError and leaves the model working;
// predict writes into a caller's array; a backend of another version gets the engine path; and
// many predictions leave no tensor and no memory behind.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2d, dense, flatten, globalAvgPool, model } from '../../src/frontends/dsl.ts';
import { transposeBorder } from '../../src/codegen/check.ts';
import { MODULE_FILE } from '../../src/codegen/module_source.ts';
import { interpret } from '../../src/interp/index.ts';
import { Rng } from '../../src/util/random.ts';
import { compileToScratch, type CompiledDir, type EmittedExports, type EmittedModel } from './emitted.ts';
import { HOST_RELAXED_SIMD } from '../../scripts/relaxed_simd.ts';
import { SMALL_NETS } from './nets.ts';

const randomData = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return rng.fill(n, () => rng.normal());
};

describe('predict on the plan', () => {
  let out: CompiledDir;
  let m: EmittedModel;
  const x = randomData(2 * 16 * 16 * 3, 5);
  let expected: Float32Array;
  beforeAll(async () => {
    out = await compileToScratch(SMALL_NETS.vgg());
    m = await out.exports.load();
    expected = (await m.predict(x)) as Float32Array;
  });
  afterAll(async () => {
    m?.dispose();
    await out?.cleanup();
  });

  it('refuses empty inputs with a SlimcModelError, not a tfjs error', async () => {
    const empty = tf.zeros([0, 16, 16, 3]);
    await expect(m.predict(empty)).rejects.toThrow(out.exports.SlimcModelError);
    await expect(m.predict(empty)).rejects.toThrow('vgg-small: input x: is empty (batch 0); give at least one sample of shape [N,16,16,3]');
    empty.dispose();
    await expect(m.predict(new Float32Array(0))).rejects.toThrow('vgg-small: input x: is empty (0 floats)');
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses an input holding %s, naming where', async (bad) => {
    const poisoned = x.slice();
    poisoned[700] = bad;
    await expect(m.predict(poisoned)).rejects.toThrow(out.exports.SlimcModelError);
    await expect(m.predict(poisoned)).rejects.toThrow(`vgg-small: input x: holds a non-finite value (${bad} at index 700)`);
    const allNaN = tf.fill([1, 16, 16, 3], Number.NaN);
    await expect(m.predict(allNaN)).rejects.toThrow(/non-finite value \(NaN at index 0\)/);
    allNaN.dispose();
    expect(await m.predict(x)).toEqual(expected);
  });

  it('writes into a caller-given array, and refuses one of the wrong size', async () => {
    const into = new Float32Array(20);
    const result = await m.predict(x, { into });
    expect(result).toBe(into);
    expect(into).toEqual(expected);
    await expect(m.predict(x, { into: new Float32Array(10) })).rejects.toThrow(
      'vgg-small: into: output fc1 needs a Float32Array of 20 floats',
    );
  });

  it('builds plans for other batch sizes on first use, and keeps giving the same answers', async () => {
    for (const batch of [1, 3, 4, 5, 6, 2]) {
      const y = (await m.predict(repeat(x.subarray(0, 768), batch))) as Float32Array;
      for (let b = 0; b < batch; b++) expect(y.subarray(10 * b, 10 * b + 10)).toEqual(expected.subarray(0, 10));
    }
    expect(await m.predict(x)).toEqual(expected);
  });

  it('profiles every step of the plan, named, without changing what predict returns', async () => {
    const steps = await m.profile(x, { runs: 3 });
    expect(steps.map((s) => s.op)).toEqual(expect.arrayContaining(['conv2d', 'dense']));
    expect(steps.map((s) => s.step)).toContain('fc1');
    for (const s of steps) expect(Number.isFinite(s.microseconds) && s.microseconds >= 0, s.step).toBe(true);
    // The steps were really timed: the convs of a batch of 2 take measurable time.
    expect(steps.filter((s) => s.op === 'conv2d').reduce((t, s) => t + s.microseconds, 0)).toBeGreaterThan(0);
    expect(await m.predict(x)).toEqual(expected);
    await expect(m.profile(x, { runs: 0 })).rejects.toThrow('vgg-small: profile: runs must be a positive integer, got 0');
    const engine = await out.exports.load({ runtime: 'engine' });
    try {
      await expect(engine.profile(x)).rejects.toThrow(
        'vgg-small: profile times the plan, and this model runs the engine path: asked for by load({ runtime: "engine" })',
      );
    } finally {
      engine.dispose();
    }
  });

  it('runs 1,000 predictions without leaking tensors or memory', async () => {
    const one = x.subarray(0, 768);
    const into = new Float32Array(10);
    for (let i = 0; i < 50; i++) await m.predict(one, { into });
    const tensors = tf.memory().numTensors;
    const rss = process.memoryUsage().rss;
    for (let i = 0; i < 1000; i++) await m.predict(one, { into });
    expect(tf.memory().numTensors).toBe(tensors);
    // Flat: allow for the allocator's noise, far below what 1,000 kept outputs or arenas would take.
    expect(process.memoryUsage().rss - rss).toBeLessThan(16 * 2 ** 20);
    expect(into).toEqual(expected.subarray(0, 10));
  });
});

function repeat(sample: Float32Array, times: number): Float32Array {
  const out = new Float32Array(sample.length * times);
  for (let i = 0; i < times; i++) out.set(sample, i * sample.length);
  return out;
}

describe('an NCHW border (as imported from ONNX) on the plan', () => {
  it('takes and returns 4-D values in NCHW, as the engine path does', async () => {
    const graph = model('nchw-plan', { input: [6, 5, 3] }, (x) => [
      conv2d(x, 4, { kernel: 3, bias: true, name: 'conv' }),
      flatten(x, 'flat'),
    ]);
    const nchw = { ...graph, layout: { input: 'NCHW' as const } };
    const out = await compileToScratch(nchw);
    const [plan, engine] = [await out.exports.load(), await out.exports.load({ runtime: 'engine' })];
    try {
      expect(plan.info.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: true, fma: HOST_RELAXED_SIMD });
      const nhwc = randomData(2 * 6 * 5 * 3, 8);
      const expected = await interpret(graph, nhwc);
      for (const m of [plan, engine]) {
        const y = (await m.predict(transposeBorder(nhwc, [2, 6, 5, 3]))) as Record<string, Float32Array>;
        const conv = transposeBorder(y.conv, [2, 6, 5, 4], true);
        conv.forEach((v, i) => expect(Math.abs(v - expected[0][i])).toBeLessThan(1e-4));
        expect(y.flat).toEqual(expected[1]);
      }
    } finally {
      plan.dispose();
      engine.dispose();
      await out.cleanup();
    }
  });
});

describe('a batch larger than the wasm heap holds', () => {
  // 16 MB of activations per sample (64x64x1024 floats) from 16 KB of input: a batch of 300
  // needs 4.8 GB, more than a wasm heap can address.
  const wide = () =>
    model('wide', { input: [64, 64, 1] }, (x) =>
      dense(flatten(globalAvgPool(conv2d(x, 1024, { kernel: 1, name: 'widen' }))), 2, { name: 'fc' }),
    );
  let out: CompiledDir;
  beforeAll(async () => {
    out = await compileToScratch(wide());
  });
  afterAll(async () => out?.cleanup());

  it.each(['plan', 'engine'] as const)(
    'is refused on the %s runtime, naming the largest batch that fits; the model keeps working',
    async (runtime) => {
      const m = await out.exports.load({ runtime });
      try {
        const one = randomData(64 * 64, 9);
        const before = (await m.predict(one)) as Float32Array;
        const huge = new Float32Array(300 * 64 * 64);
        const error = await m.predict(huge).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(out.exports.SlimcModelError);
        expect((error as Error).message).toMatch(
          /^wide: batch 300 needs [\d.]+ MB of activation memory \([\d.]+ MB per sample\), more than the wasm heap \(at most 4 GB\) can hold; the largest batch that fits now is (\d+)/,
        );
        const fits = Number(/fits now is (\d+)/.exec((error as Error).message)?.[1]);
        expect(fits).toBeGreaterThan(0);
        expect(fits).toBeLessThan(300);
        expect(await m.predict(one)).toEqual(before);
      } finally {
        m.dispose();
      }
    },
  );
});

describe('model names in the emitted files', () => {
  it('a graph name with line terminators does not run as code in model.js, nor break model.d.ts comments', async () => {
    const name = 'n\u2028globalThis.slimcInjected = 1; //\n globalThis.slimcInjected = 2; */ x';
    const out = await compileToScratch({ ...SMALL_NETS.vgg(), name });
    try {
      const m = await out.exports.load();
      expect((globalThis as { slimcInjected?: number }).slimcInjected).toBeUndefined();
      expect(m.info.name).toBe(name);
      m.dispose();
      expect(out.compiled.module.dts.split('\n').filter((line) => line.includes('slimcInjected'))).toEqual([]);
    } finally {
      await out.cleanup();
    }
  });
});

describe('the version guard', () => {
  it('runs the engine path, and says why, when the backend is not the version the plan was made for', async () => {
    const out = await compileToScratch(SMALL_NETS.vgg());
    try {
      const path = join(out.dir, MODULE_FILE);
      const js = await readFile(path, 'utf8');
      expect(js).toContain('backendVersion: "4.22.0"');
      const other = join(out.dir, 'other-version.js');
      await writeFile(other, js.replace('backendVersion: "4.22.0"', 'backendVersion: "4.21.0"'));
      const exports = (await import(pathToFileURL(other).href)) as EmittedExports;
      const [planned, guarded] = [await out.exports.load(), await exports.load({ weights: join(out.dir, 'model.weights.bin') })];
      expect(planned.info.runtime).toEqual({ name: 'plan', convolutions: 'slimc', winograd: true, fma: HOST_RELAXED_SIMD });
      expect(guarded.info.runtime).toEqual({
        name: 'engine',
        note: 'the plan was not run: tfjs-backend-wasm 4.22.0 runs, the plan was compiled for 4.21.0',
      });
      const x = randomData(16 * 16 * 3, 3);
      const [a, b] = [(await planned.predict(x)) as Float32Array, (await guarded.predict(x)) as Float32Array];
      a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-4));
      planned.dispose();
      guarded.dispose();
    } finally {
      await out.cleanup();
    }
  });
});
