// The emitted module's own channel kernels (runtime/model_runtime.js) against the interpreter,
// element for element: selections with runs of every kind the kernel copies differently (one
// channel, short runs, runs long enough for copyWithin, out of order, repeated), and concats of
// narrow and wide inputs, including one that reads its input twice; gathers followed by a batch
// norm (with relu, relu6 or none), which the plan runs as one pass; and all of it again with the
// wasm channel kernels missing (the runtime's JS loops).
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchNorm, concat, gather, model, relu, relu6 } from '../../src/frontends/dsl.ts';
import { graphInputs } from '../../src/ir/node.ts';
import type { Graph } from '../../src/ir/types.ts';
import { interpret } from '../../src/interp/index.ts';
import { Rng } from '../../src/util/random.ts';
import { withSparsityLikeWeights } from '../helpers/sparsity_weights.ts';
import { compileToScratch, type CompiledDir, type EmittedModel } from './emitted.ts';

const CHANNELS = 48;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/**
 * x [5, 3, 48] -> one output per selection, concats of selections and of x itself, and selections
 * each followed by a batch norm: of short runs with relu (4 channels at a time, in one pass with
 * the norm), of long runs with relu6, and from 3 channels with no activation.
 */
function channelMoves(): Graph {
  const graph = model('channel-moves', { input: [5, 3, CHANNELS] }, (x) => {
    const long = gather(x, [...range(2, 22), 30, ...range(33, 36), ...range(40, 48)], 'long'); // runs 20, 1, 3, 8
    const scattered = gather(
      x,
      range(0, CHANNELS).filter((c) => c % 3 !== 1),
      'scattered',
    ); // runs of 1 and 2
    const reordered = gather(x, [47, ...range(0, 17), 5, 5, 46], 'reordered'); // out of order, a run of 17, repeats
    const single = gather(x, [7], 'single');
    const normed = relu(batchNorm(gather(x, [...range(0, 9).map((c) => 5 * c), 46, 47], 'scattered-norm')));
    const normedLong = relu6(batchNorm(gather(x, [...range(0, 20), ...range(24, 47)], 'long-norm')));
    const narrow = gather(x, [0, 1, 2], 'narrow');
    const narrowNormed = batchNorm(gather(narrow, [2, 0], 'narrow-norm'));
    return [long, scattered, reordered, concat(x, single, x), concat(long, scattered, reordered), normed, normedLong, narrowNormed];
  });
  return withSparsityLikeWeights(graph);
}

describe('channel kernels', () => {
  const graph = channelMoves();
  let out: CompiledDir;
  const models: Record<string, EmittedModel> = {};
  beforeAll(async () => {
    out = await compileToScratch(graph);
    for (const runtime of ['plan', 'engine'] as const) models[runtime] = await out.exports.load({ runtime });
    // Plans are built at the first predict: build this one's now, then take the kernels away.
    await models.plan.predict(new Float32Array(5 * 3 * CHANNELS));
    wasmModule().slimcChannelKernels = null;
    models['plan without kernels'] = await out.exports.load();
  });
  afterAll(async () => {
    delete wasmModule().slimcChannelKernels;
    for (const m of Object.values(models)) m.dispose();
    await out?.cleanup();
  });

  it('the module runs every selection and concat with its own copies, on both runtimes', () => {
    const js = out.compiled.module.js;
    expect(out.compiled.lowered.nodes.filter((n) => n.op === 'gather')).toHaveLength(8);
    expect(js).toContain("runKernel('SlimcGatherChannels'");
    expect(js).toContain("runKernel('SlimcConcatChannels'");
    const steps = out.compiled.module.forward.plan.steps;
    expect(steps.filter((s) => s.op === 'gather')).toHaveLength(8);
    expect(steps.filter((s) => s.op === 'copy')).toHaveLength(2);
    // Each gather with a norm after it is one step that applies the norm; no depthwise conv is left.
    const fused = steps.flatMap((s) => (s.op === 'gather' && s.affine !== null ? [[s.name, s.affine.activation]] : []));
    expect(fused.map(([, act]) => act).sort()).toEqual([0, 1, 2]);
    expect(steps.filter((s) => s.op === 'depthwise')).toHaveLength(0);
    expect(models['plan without kernels'].info.runtime.note).toMatch(/run in JS/);
  });

  it.each([
    ['plan', 1],
    ['plan', 2],
    ['engine', 1],
    ['engine', 2],
    ['plan without kernels', 2],
  ] as const)('copies exactly what the interpreter selects (%s runtime, batch %i)', async (runtime, batch) => {
    const m = models[runtime];
    expect(m.info.runtime.name).toBe(runtime.split(' ')[0]);
    const [input] = graphInputs(graph);
    const rng = new Rng(batch);
    // Large enough that relu6 clamps: the norms multiply by about 0.5.
    const x = rng.fill(batch * input.type.shape.slice(1).reduce((a, b) => a * b, 1), () => 20 * rng.normal());
    const expected = await interpret(graph, x);
    const actual = (await m.predict(x)) as Record<string, Float32Array>;
    const names = m.info.outputs.map((o) => o.name);
    expect(names).toHaveLength(8);
    // Copies are exact; a norm's multiply-add may round differently from the interpreter's.
    names.forEach((name, i) => {
      if (i < 5) expect(Array.from(actual[name]), name).toEqual(Array.from(expected[i]));
      else expectClose(actual[name], expected[i], name);
    });
  });
});

describe('gathers with a batch norm after them, in one pass', () => {
  it('match the interpreter for random selections, channel counts and activations', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }).chain((channels) =>
          fc.tuple(
            fc.constant(channels),
            fc.oneof(
              fc.array(fc.nat(channels - 1), { minLength: 1, maxLength: 24 }),
              // As pruning keeps them: in order, with runs of consecutive channels (plain loads).
              fc
                .array(fc.boolean(), { minLength: channels, maxLength: channels })
                .map((keep) => keep.flatMap((k, c) => (k ? [c] : [])))
                .filter((kept) => kept.length > 0),
            ),
            fc.constantFrom('none', 'relu', 'relu6'),
          ),
        ),
        fc.integer({ min: 1, max: 3 }),
        async ([channels, indices, activation], batch) => {
          const graph = withSparsityLikeWeights(
            model('gather-norm', { input: [3, 2, channels] }, (x) => {
              const normed = batchNorm(gather(x, indices, 'kept'));
              return activation === 'relu' ? relu(normed) : activation === 'relu6' ? relu6(normed) : normed;
            }),
          );
          const out = await compileToScratch(graph);
          const m = await out.exports.load();
          try {
            const fused = out.compiled.module.forward.plan.steps.filter((s) => s.op === 'gather' && s.affine !== null);
            // A selection of every channel in order is no selection: lowering removes it.
            const identity = indices.length === channels && indices.every((c, i) => c === i);
            expect(fused).toHaveLength(identity ? 0 : 1);
            const rng = new Rng(indices.length);
            const x = rng.fill(batch * 6 * channels, () => 10 * rng.normal());
            const [expected] = await interpret(graph, x);
            expectClose((await m.predict(x)) as Float32Array, expected, `${indices.join(',')} of ${channels}`);
          } finally {
            m.dispose();
            await out.cleanup();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

/** The wasm backend's emscripten module, where the runtime keeps its channel kernels. */
function wasmModule(): { slimcChannelKernels?: unknown } {
  return (tf.backend() as unknown as { wasm: { slimcChannelKernels?: unknown } }).wasm;
}

function expectClose(actual: Float32Array, expected: Float32Array, name: string): void {
  expect(actual.length, name).toBe(expected.length);
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i] - expected[i]), `${name}[${i}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(expected[i])));
}
