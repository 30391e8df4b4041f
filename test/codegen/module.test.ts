// The emitted model.js in Node: it computes what the interpreter computes on the reference graph
// (the masked original when pruned), for batch 1 and 3; it leaves no tensor behind; its info
// is right; and bad inputs or weights fail with errors that say what is expected.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transposeBorder } from '../../src/codegen/check.ts';
import { WEIGHTS_FILE } from '../../src/codegen/module_source.ts';
import { cost } from '../../src/ir/cost.ts';
import { graphInputs } from '../../src/ir/node.ts';
import type { Graph } from '../../src/ir/types.ts';
import { interpret } from '../../src/interp/index.ts';
import { Rng } from '../../src/util/random.ts';
import { compareOutputs } from '../helpers/compare.ts';
import { compileToScratch, type CompiledDir, type EmittedModel } from './emitted.ts';
import { allOpsPositiveVariance, windows } from './golden_graphs.ts';
import { SMALL_NETS } from './nets.ts';

const sampleSize = (shape: readonly number[]) => shape.slice(1).reduce((a, b) => a * b, 1);

function randomData(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return rng.fill(n, () => rng.normal());
}

function expectClose(reference: Float32Array, actual: Float32Array, what: string): void {
  const c = compareOutputs(reference, actual);
  expect(c.ok, `${what}: max |module - interpreter| = ${c.maxAbsDiff} > ${c.tolerance}`).toBe(true);
}

/** Emitted module vs interpreter on `reference` for a single-input, single-output graph. */
async function expectSameFunction(model: EmittedModel, reference: Graph, batch: number, seed: number): Promise<void> {
  const [input] = graphInputs(reference);
  const x = randomData(batch * sampleSize(input.type.shape), seed);
  const [expected] = await interpret(reference, x);
  const actual = (await model.predict(x)) as Float32Array;
  expect(actual).toBeInstanceOf(Float32Array);
  expect(actual.length).toBe(expected.length);
  expectClose(expected, actual, `${reference.name} batch ${batch}`);
}

const RUNTIMES = ['plan', 'engine'] as const;

describe.each(Object.keys(SMALL_NETS))('%s', (name) => {
  const graph = SMALL_NETS[name]();
  const cases: [string, { ratio: number } | null][] = [
    ['as is', null],
    ['pruned at 0.4', { ratio: 0.4 }],
  ];
  describe.each(cases)('%s', (_label, slim) => {
    let out: CompiledDir;
    const models: Partial<Record<(typeof RUNTIMES)[number], EmittedModel>> = {};
    beforeAll(async () => {
      out = await compileToScratch(graph, slim ? { slim } : {});
      for (const runtime of RUNTIMES) models[runtime] = await out.exports.load({ runtime });
    });
    afterAll(async () => {
      for (const m of Object.values(models)) m.dispose();
      await out?.cleanup();
    });

    describe.each(RUNTIMES)('on the %s runtime', (runtime) => {
      it.each([1, 3])('equals the interpreter on the reference graph (batch %i), leaving no tensor behind', async (batch) => {
        const model = models[runtime] as EmittedModel;
        expect(model.info.runtime.name).toBe(runtime);
        const before = tf.memory().numTensors;
        await expectSameFunction(model, out.compiled.reference, batch, 10 + batch);
        expect(tf.memory().numTensors).toBe(before);
      });
    });
  });
});

/** The plan does not cover grouped convolutions (other than depthwise) yet: graphs with one run on the engine path. */
const GROUPED_ON_ENGINE = true;

describe('a graph with every op, two inputs and two outputs', () => {
  const graph = allOpsPositiveVariance();
  let out: CompiledDir;
  let model: EmittedModel;
  let engineModel: EmittedModel;
  beforeAll(async () => {
    out = await compileToScratch(graph);
    model = await out.exports.load();
    engineModel = await out.exports.load({ runtime: 'engine' });
  });
  afterAll(async () => {
    model?.dispose();
    engineModel?.dispose();
    await out?.cleanup();
  });

  it.each(RUNTIMES.flatMap((runtime) => [1, 3].map((batch) => [runtime, batch] as const)))(
    'equals the interpreter output by output (%s runtime, batch %i)',
    async (runtime, batch) => {
      const runner = runtime === 'plan' ? model : engineModel;
      expect(runner.info.runtime.name).toBe(GROUPED_ON_ENGINE ? 'engine' : runtime);
      const inputs = Object.fromEntries(graphInputs(graph).map((n, i) => [n.id, randomData(batch * sampleSize(n.type.shape), 20 + i)]));
      const expected = await interpret(graph, inputs);
      const before = tf.memory().numTensors;
      const actual = (await runner.predict(inputs)) as Record<string, Float32Array>;
      expect(tf.memory().numTensors).toBe(before);
      expect(Object.keys(actual)).toEqual(graph.outputs);
      graph.outputs.forEach((o, i) => expectClose(expected[i], actual[o], `output ${o}`));
    },
  );

  it('names the inputs it needs when one is missing or a bare array is given', async () => {
    await expect(model.predict({ x: randomData(8 * 8 * 4, 1) })).rejects.toThrow(/input in:2 is not given/);
    await expect(model.predict(randomData(8 * 8 * 4, 1))).rejects.toThrow(/takes 2 inputs by name: x, in:2/);
  });

  it('with an NCHW border (as imported from ONNX), takes and returns 4-D values in NCHW', async () => {
    const nchw: Graph = { ...graph, layout: { input: 'NCHW' } };
    const compiled = await compileToScratch(nchw);
    const m = await compiled.exports.load();
    const engine = await compiled.exports.load({ runtime: 'engine' });
    try {
      expect(m.info.runtime).toEqual({
        name: 'engine',
        note: 'the plan does not cover this graph: grouped convolution %grouped (groups=2)',
      });
      expect(m.info.inputs[0]).toEqual({ name: 'x', shape: [1, 4, 8, 8], layout: 'NCHW', sampleShape: [4, 8, 8] });
      expect(m.info.outputs[1].layout).toBe('NCHW');
      const x = randomData(2 * 8 * 8 * 4, 3);
      const second = randomData(2 * 10, 4);
      const expected = await interpret(graph, { x, 'in:2': second });
      for (const runner of [m, engine]) {
        const actual = (await runner.predict({ x: transposeBorder(x, [2, 8, 8, 4]), 'in:2': second })) as Record<string, Float32Array>;
        expectClose(expected[0], actual[graph.outputs[0]], 'the 2-D output');
        expectClose(expected[1], transposeBorder(actual[graph.outputs[1]], [2, 8, 8, 8], true), 'the 4-D output, back from NCHW');
      }
    } finally {
      m.dispose();
      engine.dispose();
      await compiled.cleanup();
    }
  });
});

describe('sliding windows: explicit and asymmetric padding, strides with dilations, pooling', () => {
  it.each([1, 3])('equal the interpreter on both runtimes (batch %i)', async (batch) => {
    const graph = windows({ countingPads: false });
    const out = await compileToScratch(graph);
    const plan = await out.exports.load();
    const engine = await out.exports.load({ runtime: 'engine' });
    try {
      expect([plan.info.runtime.name, engine.info.runtime.name]).toEqual(['plan', 'engine']);
      await expectSameFunction(plan, graph, batch, 30 + batch);
      await expectSameFunction(engine, graph, batch, 30 + batch);
    } finally {
      plan.dispose();
      engine.dispose();
      await out.cleanup();
    }
  });

  it('an average pool counting padded positions runs on the engine path, which says why', async () => {
    const graph = windows();
    const out = await compileToScratch(graph);
    const model = await out.exports.load();
    try {
      expect(model.info.runtime).toEqual({
        name: 'engine',
        note: 'the plan does not cover this graph: average pooling %avg_counting_pads counting padded positions',
      });
      await expectSameFunction(model, graph, 3, 33);
    } finally {
      model.dispose();
      await out.cleanup();
    }
  });
});

describe('the module API', () => {
  const graph = SMALL_NETS.vgg();
  let out: CompiledDir;
  let model: EmittedModel;
  const x = randomData(16 * 16 * 3, 5);
  let expected: Float32Array;
  beforeAll(async () => {
    out = await compileToScratch(graph, { slim: { ratio: 0.4 } });
    model = await out.exports.load();
    expected = (await model.predict(x)) as Float32Array;
  });
  afterAll(async () => {
    model?.dispose();
    await out?.cleanup();
  });

  it('reports shapes, layouts, cost of the final IR and the backend that runs', () => {
    const c = cost(out.compiled.lowered);
    expect(model.info).toMatchObject({
      name: 'vgg-small',
      inputs: [{ name: 'x', shape: [1, 16, 16, 3], layout: 'NHWC' }],
      outputs: [{ name: 'fc1', shape: [1, 10], layout: 'NC' }],
      params: c.params,
      macs: c.macs,
      flops: 2 * c.macs,
      backend: { name: 'wasm', variant: 'wasm-simd', simd: true, threads: 1 },
      runtime: { name: 'plan' },
      peakActivationBytes: out.compiled.module.forward.plan.arena * 4,
    });
    // The arena holds at least the largest value and at most every value at once.
    const sizes = out.compiled.module.forward.plan.slots.map((s) => s.size);
    expect(model.info.peakActivationBytes).toBeGreaterThanOrEqual(4 * Math.max(...sizes));
    expect(model.info.peakActivationBytes).toBeLessThan(4 * sizes.reduce((a, b) => a + b, 0));
    expect(c.macs).toBeLessThan(cost(graph).macs);
  });

  it('loads its weights from a path, a file URL, an ArrayBuffer or a Uint8Array alike', async () => {
    const path = join(out.dir, WEIGHTS_FILE);
    const bytes = new Uint8Array(await readFile(path));
    const sources = [
      path,
      pathToFileURL(path),
      pathToFileURL(path).href,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      bytes,
    ];
    for (const weights of sources) {
      const m = await out.exports.load({ weights });
      expect(await m.predict(x)).toEqual(expected);
      m.dispose();
    }
  });

  it('takes a tf.Tensor, neither keeping nor freeing it, and frees its own tensors on dispose', async () => {
    const t = tf.tensor(x, [1, 16, 16, 3]);
    const before = tf.memory().numTensors;
    expect(await model.predict(t)).toEqual(expected);
    expect(await model.predict({ x: t })).toEqual(expected);
    expect(t.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
    const m = await out.exports.load();
    await m.warmup();
    const loaded = tf.memory().numTensors;
    m.dispose();
    const floatConstants = out.compiled.module.forward.constants.filter(([dtype]) => dtype === 'float32').length;
    expect(tf.memory().numTensors).toBe(loaded - out.compiled.module.forward.weights.length - floatConstants);
    await expect(m.predict(x)).rejects.toThrow(/predict after dispose/);
  });

  it('rejects input of the wrong size or shape with the shape it expects', async () => {
    const error = out.exports.SlimcModelError;
    await expect(model.predict(new Float32Array(100))).rejects.toThrow(error);
    await expect(model.predict(new Float32Array(100))).rejects.toThrow(
      'vgg-small: input x: expects shape [N,16,16,3] (NHWC, 768 floats per sample), got 100 floats, which is not a positive multiple of 768',
    );
    await expect(model.predict(new Float32Array(0))).rejects.toThrow(/\[N,16,16,3\]/);
    const nchw = tf.zeros([1, 3, 16, 16]);
    await expect(model.predict(nchw)).rejects.toThrow(
      'expects a float32 tensor of shape [N,16,16,3] (NHWC, 768 floats per sample), got float32 [1,3,16,16]',
    );
    nchw.dispose();
    await expect(model.predict([1, 2, 3])).rejects.toThrow(/expects a Float32Array or a tf.Tensor/);
  });

  it('refuses a weights file whose data does not match its manifest checksum, naming the file', async () => {
    const path = join(out.dir, WEIGHTS_FILE);
    const bytes = new Uint8Array(await readFile(path));
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 3] ^= 0x40;
    const corruptPath = join(out.dir, 'corrupt.weights.bin');
    await writeFile(corruptPath, corrupt);
    await expect(out.exports.load({ weights: corruptPath })).rejects.toThrow(
      new RegExp(
        `^${corruptPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor @\\S+ is corrupt: its data digests to #[0-9a-f]{8}, the manifest says #[0-9a-f]{8}$`,
      ),
    );
    await expect(out.exports.load({ weights: corrupt })).rejects.toThrow(/^weights \(Uint8Array\): tensor @\S+ is corrupt/);
    await expect(out.exports.load({ weights: bytes.subarray(0, bytes.length - 8) })).rejects.toThrow(/truncated/);
    await expect(out.exports.load({ weights: join(out.dir, 'model.slim') })).rejects.toThrow(/model\.slim: not a slimc weights file/);
    await expect(out.exports.load({ weights: join(out.dir, 'missing.bin') })).rejects.toThrow(/missing\.bin: cannot read the weights file/);
  });

  it('refuses the weights file of another model', async () => {
    const other = await compileToScratch(graph);
    try {
      await expect(out.exports.load({ weights: join(other.dir, WEIGHTS_FILE) })).rejects.toThrow(/do not belong to this model/);
    } finally {
      await other.cleanup();
    }
  });
});
